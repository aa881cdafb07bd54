// What the dashboard shows, kept live from the event stream: the daemon's
// counts, each job's last result (failures first), what each store holds, and
// the history of finished backups for the chart. Pages compose it; each part
// carries its own error so a card can say what went wrong where it happened.
import { computed, shallowRef, watch } from 'vue'
import { newestArchiveByJob } from './archives'
import type {
  Archive,
  DaemonStatus,
  Job,
  Target,
  Task,
  TaskStatus,
} from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { useLiveTasks } from '../stores/tasks'
import { describeError } from './errors'
import { useList } from './useList'

/** GET /v1/status, reloaded whenever anything it counts may have changed. */
export function useDaemonStatus() {
  const conn = useConnection()
  const list = useList<DaemonStatus>(async () => [await conn.client.status()], {
    kinds: ['target', 'store', 'schedule', 'retention', 'job', 'archive', 'task'],
    onTaskFinished: true,
  })
  const status = computed(() => list.items.value[0] ?? conn.status)
  return { status, loading: list.loading, error: list.error }
}

/** 'invalid': the last backup went well, but the job's newest archive was found damaged since. */
export type JobState = TaskStatus | 'never' | 'invalid'

export interface JobHealth {
  job: Job
  /** The live task's status while one runs, else the last backup's, or 'never'. */
  state: JobState
  /** The backup pending or running now, if any (with its progress). */
  active: Task | null
  /** For a failed or canceled job: its last backup task, to link to its log. */
  lastTask: Task | null
  /** Why lastTask could not be looked up. */
  lastTaskError: string | null
  /** The job's newest archive not purged (null: none). */
  newest: Archive | null
}

/** Failures first, then what is running, then jobs that never ran, then the healthy ones. */
const RANK: Record<JobState, number> = {
  failed: 0,
  invalid: 1,
  canceled: 2,
  running: 3,
  pending: 4,
  never: 5,
  done: 6,
}

const needsLog = (s: TaskStatus | null) => s === 'failed' || s === 'canceled'

export function useJobHealth() {
  const conn = useConnection()
  const live = useLiveTasks()
  const jobs = useList<Job>(() => conn.client.listJobs(), {
    kinds: ['job', 'target', 'store', 'schedule', 'retention'],
    onTaskFinished: true,
  })
  // Archives, for each job's newest one and the invalid ones.
  const archives = useList<Archive>(() => conn.client.listArchives(), {
    kinds: ['archive'],
    onTaskFinished: true,
  })
  const newestByJob = computed(() => newestArchiveByJob(archives.items.value))
  /** Archives a verify found damaged. */
  const invalidArchives = computed(
    () => archives.items.value.filter((a) => a.status === 'invalid').length,
  )
  const lastTasks = shallowRef(new Map<string, { task: Task | null; error: string | null }>())
  let seq = 0

  /** The last backup task of each job whose last result needs a look. */
  async function loadLastTasks(list: Job[]) {
    const mine = ++seq
    const next = new Map<string, { task: Task | null; error: string | null }>()
    await Promise.all(
      list
        .filter((j) => needsLog(j.last_status))
        .map(async (j) => {
          try {
            const [task] = await conn.client.listTasks({
              job: j.uuid,
              type: 'backup',
              status: 'all',
              limit: 1,
            })
            next.set(j.uuid, { task: task ?? null, error: null })
          } catch (err) {
            next.set(j.uuid, { task: null, error: describeError(err) })
          }
        }),
    )
    if (mine === seq) lastTasks.value = next
  }
  watch(jobs.items, (list) => void loadLastTasks(list))

  const health = computed<JobHealth[]>(() => {
    const activeByJob = new Map<string, Task>()
    for (const t of live.active) {
      if (t.type === 'backup' && t.job_uuid && !activeByJob.has(t.job_uuid)) {
        activeByJob.set(t.job_uuid, t)
      }
    }
    return jobs.items.value
      .map((job): JobHealth => {
        const active = activeByJob.get(job.uuid) ?? null
        const last = lastTasks.value.get(job.uuid)
        const newest = newestByJob.value.get(job.uuid) ?? null
        const lastState = job.last_status ?? 'never'
        return {
          job,
          newest,
          state:
            active?.status ??
            (newest?.status === 'invalid' && lastState === 'done' ? 'invalid' : lastState),
          active,
          lastTask: needsLog(job.last_status) ? (last?.task ?? null) : null,
          lastTaskError: needsLog(job.last_status) ? (last?.error ?? null) : null,
        }
      })
      .sort(
        (a, b) =>
          RANK[a.state] - RANK[b.state] ||
          Number(a.job.paused) - Number(b.job.paused) ||
          a.job.name.localeCompare(b.job.name),
      )
  })
  /** Jobs whose last backup failed (a canceled one was someone's choice). */
  const failing = computed(() => health.value.filter((h) => h.state === 'failed').length)
  /** Jobs whose newest archive is invalid (their last backup succeeded, its result did not last). */
  const invalidJobs = computed(() => health.value.filter((h) => h.state === 'invalid').length)
  return { jobs, health, failing, invalidJobs, invalidArchives }
}

export { useStoreUsage, type StoreUsage, type StoreUsageState } from './storeUsage'

export interface BackupPoint {
  task: string
  job: string | null
  /** When it finished (ms since the epoch). */
  at: number
  /** Bytes read from the target: the archive's size. */
  bytes: number
  durationMs: number
  /** Stored bytes it added to its store (null when unknown or purged since). */
  newBytes: number | null
}

/** Finished backups, oldest first: sizes from the task, new bytes from its archive. */
export function useBackupHistory(limit = 500) {
  const conn = useConnection()
  const list = useList<BackupPoint>(
    async () => {
      const [tasks, archives] = await Promise.all([
        conn.client.listTasks({ status: 'done', type: 'backup', limit }),
        conn.client.listArchives({ limit }),
      ])
      const newBytes = new Map(archives.map((a) => [a.uuid, a.new_bytes]))
      return tasks
        .filter((t) => t.started_at && t.stopped_at)
        .map((t) => {
          const at = new Date(t.stopped_at!).getTime()
          return {
            task: t.uuid,
            job: t.job_uuid,
            at,
            bytes: t.bytes,
            durationMs: Math.max(0, at - new Date(t.started_at!).getTime()),
            newBytes: t.archive_uuid ? (newBytes.get(t.archive_uuid) ?? null) : null,
          }
        })
        .sort((a, b) => a.at - b.at)
    },
    { kinds: ['archive'], onTaskFinished: true },
  )
  return { points: list.items, loading: list.loading, error: list.error }
}

/** Targets by uuid, for naming what a task works on. */
export function useTargetNames() {
  const conn = useConnection()
  const targets = useList<Target>(() => conn.client.listTargets(), { kinds: ['target'] })
  return computed(() => new Map(targets.items.value.map((t) => [t.uuid, t.name])))
}

export type TagType = 'default' | 'success' | 'info' | 'warning' | 'error'

/** How a job's or task's state reads in a tag. */
export function stateTag(state: JobState): { type: TagType; label: string } {
  return (
    {
      failed: { type: 'error', label: 'failed' },
      canceled: { type: 'warning', label: 'canceled' },
      running: { type: 'info', label: 'running' },
      pending: { type: 'default', label: 'pending' },
      never: { type: 'default', label: 'never run' },
      done: { type: 'success', label: 'ok' },
      invalid: { type: 'error', label: 'archive invalid' },
    } as const
  )[state]
}
