// Tasks pending or running now, kept live from the event stream: the
// dashboard, the tasks page and the task view all read progress from here.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { Task, TaskStatus } from '../../../src-daemon/contract'
import { useConnection } from './connection'

export const FINISHED: readonly TaskStatus[] = ['done', 'failed', 'canceled']

export const useLiveTasks = defineStore('liveTasks', () => {
  const conn = useConnection()
  const byUuid = ref(new Map<string, Task>())
  const active = computed(() =>
    [...byUuid.value.values()]
      .filter((t) => !FINISHED.includes(t.status))
      .sort((a, b) => a.requested_at.localeCompare(b.requested_at)),
  )
  /** Tasks that finished while this page was open, newest first (for toasts and reloads). */
  const finished = ref<Task[]>([])

  async function load() {
    if (!conn.signedIn) return
    const [running, pending] = await Promise.all([
      conn.client.listTasks({ status: 'running' }),
      conn.client.listTasks({ status: 'pending' }),
    ])
    const next = new Map<string, Task>()
    for (const t of [...running, ...pending]) next.set(t.uuid, t)
    byUuid.value = next
  }

  /** Tasks being fetched, and those that changed again meanwhile (fetched once more after). */
  const fetching = new Set<string>()
  const stale = new Set<string>()
  function fetchOne(uuid: string): void {
    if (fetching.has(uuid)) {
      stale.add(uuid)
      return
    }
    fetching.add(uuid)
    void (async () => {
      try {
        const t = await conn.client.getTask(uuid)
        if (FINISHED.includes(t.status)) {
          byUuid.value.delete(uuid)
          if (!finished.value.some((f) => f.uuid === uuid))
            finished.value = [t, ...finished.value].slice(0, 50)
        } else byUuid.value.set(uuid, t)
      } catch {
        // gone or unreachable: the next reconnect reloads the list
      } finally {
        fetching.delete(uuid)
        if (stale.delete(uuid)) fetchOne(uuid)
      }
    })()
  }

  conn.onEvent((e) => {
    if (e.type !== 'task') return
    const known = byUuid.value.get(e.uuid)
    if (!known || known.status !== e.status) {
      fetchOne(e.uuid)
      return
    }
    byUuid.value.set(e.uuid, { ...known, progress: e.progress, bytes: e.bytes })
  })

  // Reload whenever the stream (re)connects: events may have been missed.
  watch(
    () => conn.epoch,
    () => void load().catch(() => undefined),
    { immediate: true },
  )

  return { active, finished, load, get: (uuid: string) => byUuid.value.get(uuid) }
})
