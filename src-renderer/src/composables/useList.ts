// A list from the API that reloads itself when the event stream says the
// resources it shows changed (or a task finished that may have changed them).
import { computed, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import type { ResourceKind } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { FINISHED } from '../stores/tasks'
import { describeError } from './errors'

export interface ListOptions {
  /** Reload on created/updated/deleted events of these kinds. */
  kinds: ResourceKind[]
  /** Also reload when a task finishes (archives, jobs' last status). */
  onTaskFinished?: boolean
}

export function useList<T>(fetcher: () => Promise<T[]>, opts: ListOptions) {
  const conn = useConnection()
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(true)
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined
  let seq = 0

  async function reload() {
    const mine = ++seq
    try {
      const next = await fetcher()
      if (mine !== seq) return
      items.value = next
      error.value = null
    } catch (err) {
      if (mine === seq) error.value = describeError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Bursts of events cause one reload. */
  function soon() {
    clearTimeout(timer)
    timer = setTimeout(() => void reload(), 150)
  }

  const off = conn.onEvent((e) => {
    if (e.type === 'resource' && opts.kinds.includes(e.kind)) soon()
    else if (opts.onTaskFinished && e.type === 'task' && FINISHED.includes(e.status)) soon()
  })
  const stop = watch(
    () => conn.epoch,
    () => void reload(),
    { immediate: true },
  )
  onScopeDispose(() => {
    off()
    stop()
    clearTimeout(timer)
  })
  return { items, loading, error, reload }
}

/** A search box over a list: `rows` are the items one of whose `fields` holds its text. */
export function useSearch<T>(items: Ref<T[]>, fields: (item: T) => string[]) {
  const search = ref('')
  const rows = computed(() => {
    const q = search.value.trim().toLowerCase()
    return items.value.filter((x) => !q || fields(x).some((v) => v.toLowerCase().includes(q)))
  })
  return { search, rows }
}
