// One page of a list route at a time (limit + cursor, docs/api.md "Pages"):
// the daemon filters, counts and pages, so a page with thousands of archives
// or tasks loads only what it shows. Next follows the page's X-Next-Cursor;
// Previous pops a stack of the cursors followed (the API has no backward
// cursor). A change of the filters starts again at page one; events reload
// the page shown, like useList.
import { computed, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import type { ListPage } from '../../../src-daemon/client'
import { useConnection } from '../stores/connection'
import { FINISHED } from '../stores/tasks'
import { describeError } from './errors'
import type { ListOptions } from './useList'

export function usePagedList<T, Q extends object>(
  fetchPage: (q: Q & { limit: number; cursor?: string }) => Promise<ListPage<T>>,
  query: Ref<Q>,
  pageSize: () => number,
  opts: ListOptions,
) {
  const conn = useConnection()
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const total = ref(0)
  const nextCursor = ref<string | null>(null)
  /** The cursors of the pages shown so far; the last is this page's (undefined: the first). */
  const cursors = ref<(string | undefined)[]>([undefined])
  const loading = ref(true)
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined
  let seq = 0

  async function reload() {
    const mine = ++seq
    try {
      const cursor = cursors.value[cursors.value.length - 1]
      const page = await fetchPage({ ...query.value, limit: pageSize(), cursor })
      if (mine !== seq) return
      // Rows deleted since left this page empty: show the one before instead.
      if (page.items.length === 0 && cursors.value.length > 1) {
        cursors.value = cursors.value.slice(0, -1)
        return void reload()
      }
      items.value = page.items
      total.value = page.total
      nextCursor.value = page.next
      error.value = null
    } catch (err) {
      if (mine === seq) error.value = describeError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function next() {
    if (!nextCursor.value) return
    cursors.value = [...cursors.value, nextCursor.value]
    loading.value = true
    void reload()
  }
  function previous() {
    if (cursors.value.length < 2) return
    cursors.value = cursors.value.slice(0, -1)
    loading.value = true
    void reload()
  }
  function first() {
    cursors.value = [undefined]
    void reload()
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
  const stopQuery = watch(query, first, { deep: true })
  const stopEpoch = watch(() => conn.epoch, first, { immediate: true })
  onScopeDispose(() => {
    off()
    stopQuery()
    stopEpoch()
    clearTimeout(timer)
  })
  return {
    items,
    total,
    loading,
    error,
    reload,
    next,
    previous,
    /** 1 for the first page. */
    page: computed(() => cursors.value.length),
    hasNext: computed(() => nextCursor.value !== null),
    hasPrevious: computed(() => cursors.value.length > 1),
  }
}
