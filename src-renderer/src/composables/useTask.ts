// One task, live: read once, then kept current from the event stream (status,
// progress, bytes, and each log line as it is written). Events that arrive
// while a read is in flight are held; a log line is shown only if its seq is
// after the read's last line (log_lines) and the lines already shown, so no
// line is lost or shown twice. When the task ends it is read once more for its
// final log and error.
import { computed, onScopeDispose, ref, watch, type Ref } from 'vue'
import { ApiError } from '../../../src-daemon/client'
import type { DaemonEvent, Task } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { describeError } from './errors'
import { STAGE, isActive } from './taskView'

type LogEvent = Extract<DaemonEvent, { type: 'task-log' }>

const logLine = (e: Pick<LogEvent, 'at' | 'line'>) => `${e.at} ${e.line}\n`

/** The events after seq `last`, each seq once (events come in order). */
function after(last: number, events: LogEvent[]): LogEvent[] {
  return events.filter((e) => {
    if (e.seq <= last) return false
    last = e.seq
    return true
  })
}

export function useTask(uuid: Ref<string>) {
  const conn = useConnection()
  const task = ref<Task | null>(null)
  const live = ref<LogEvent[]>([])
  const loading = ref(true)
  const error = ref<string | null>(null)
  const notFound = ref(false)
  /** A read is in flight: log events wait for its answer. */
  let reading = false
  let held: LogEvent[] = []
  let finalRead = false
  let heldStatus: Pick<Task, 'uuid' | 'status' | 'progress' | 'bytes'> | null = null
  let seq = 0

  /** The seq of the last line shown. */
  const lastSeq = () => live.value.at(-1)?.seq ?? task.value?.log_lines ?? 0

  async function load() {
    const mine = ++seq
    reading = true
    try {
      const t = await conn.client.getTask(uuid.value)
      if (mine !== seq) return
      // An event may already have said more than this read (it started, it ended).
      const ahead = [task.value, heldStatus].find(
        (x) => x && x.uuid === t.uuid && STAGE[x.status] > STAGE[t.status],
      )
      heldStatus = null
      task.value = t
      live.value = after(t.log_lines, [...live.value, ...held])
      held = []
      error.value = null
      notFound.value = false
      if (!isActive(t.status)) finalRead = true
      if (ahead) applyStatus(ahead)
    } catch (err) {
      if (mine !== seq) return
      // 400: not a uuid at all (a mistyped link)
      if (err instanceof ApiError && (err.status === 404 || err.status === 400))
        notFound.value = true
      else error.value = describeError(err)
    } finally {
      if (mine === seq) {
        reading = false
        loading.value = false
        // After a failed read, the held lines wait in `live` to be matched by the next one.
        if (held.length) live.value = [...live.value, ...after(lastSeq(), held)]
        held = []
      }
    }
  }

  function applyStatus(e: Pick<Task, 'uuid' | 'status' | 'progress' | 'bytes'>) {
    const t = task.value
    if (!t) {
      heldStatus = e
      return
    }
    if (STAGE[e.status] < STAGE[t.status]) return
    task.value = { ...t, status: e.status, progress: e.progress, bytes: e.bytes }
    if (e.status === t.status) return
    // Started or ended: read again for started_at, stopped_at, error and the final log.
    if (!isActive(e.status)) {
      if (finalRead) return
      finalRead = true
    }
    void load()
  }

  const off = conn.onEvent((e) => {
    if (e.type === 'task-log' && e.uuid === uuid.value) {
      if (reading) held.push(e)
      else if (e.seq > lastSeq()) live.value = [...live.value, e]
    } else if (e.type === 'task' && e.uuid === uuid.value) {
      applyStatus(e)
    }
  })

  // A new task, or a (re)connected stream that may have missed events: read again.
  watch(
    [uuid, () => conn.epoch],
    ([next], [prev]) => {
      if (next !== prev) {
        task.value = null
        live.value = []
        held = []
        heldStatus = null
        finalRead = false
        loading.value = true
        notFound.value = false
      }
      void load()
    },
    { immediate: false },
  )
  void load()
  onScopeDispose(off)

  /** The whole log so far: what the read returned plus the lines since. */
  const log = computed(() => (task.value?.log ?? '') + live.value.map(logLine).join(''))

  return { task, log, loading, error, notFound, reload: load }
}
