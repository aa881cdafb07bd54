// Who a notice concerns: the task's job, target and store by name, the jobs a
// task or health signal is about, and the enabled channels that want an event
// for those jobs. Reads the catalog only; rules.ts decides what is sent.
import type { HealthSignal, NotifyEvent } from '../contract'
import type { Catalog } from '../catalog/catalog'
import type { ChannelRow, ChannelsRepo } from '../catalog/channels-repo'
import type { TaskRow } from '../catalog/rows'
import type { TaskContext } from './notices'

/** The task's job, target and store by name, as they are now. */
export function taskContext(
  catalog: Catalog,
  task: TaskRow,
  base: string | null,
  now: number,
): TaskContext {
  const archive = task.archive_uuid ? catalog.archives.get(task.archive_uuid) : undefined
  const jobUuid = task.job_uuid ?? archive?.job_uuid ?? null
  const job = jobUuid ? catalog.jobs.get(jobUuid) : undefined
  const targetUuid = task.target_uuid ?? archive?.target_uuid ?? job?.target_uuid
  const storeUuid = task.store_uuid ?? archive?.store_uuid ?? job?.store_uuid
  const target = targetUuid ? catalog.targets.get(targetUuid)?.name : undefined
  const store = storeUuid ? catalog.stores.get(storeUuid)?.name : undefined
  return {
    task,
    job: job ? { uuid: job.uuid, name: job.name } : null,
    target: target ?? archive?.origin_target_name ?? null,
    store: store ?? null,
    base,
    now,
  }
}

/** A task notice's jobs for matching: its job, or (a store's GC) every job of the store. */
export function jobsOfTask(catalog: Catalog, ctx: TaskContext): string[] | null {
  if (ctx.job) return [ctx.job.uuid]
  const store = ctx.task.store_uuid
  return store ? catalog.listJobs({ store_uuid: store }).map((j) => j.uuid) : null
}

export function jobOfSignal(
  catalog: Catalog,
  signal: HealthSignal,
): { uuid: string; name: string } | null {
  const uuid =
    signal.subject.kind === 'job'
      ? signal.subject.uuid
      : signal.subject.kind === 'archive'
        ? catalog.archives.get(signal.subject.uuid)?.job_uuid
        : undefined
  const job = uuid ? catalog.jobs.get(uuid) : undefined
  return job ? { uuid: job.uuid, name: job.name } : null
}

/** The jobs a signal concerns, for channels limited to some jobs; null: not one job's. */
export function jobsOfSignal(
  catalog: Catalog,
  signal: HealthSignal,
  job: { uuid: string } | null,
): string[] | null {
  if (signal.subject.kind === 'store') {
    return catalog.listJobs({ store_uuid: signal.subject.uuid }).map((j) => j.uuid)
  }
  return job ? [job.uuid] : null
}

/** Enabled channels that want the event (any, when null) for one of the jobs (null: any channel). */
export function matchingChannels(
  repo: ChannelsRepo,
  event: NotifyEvent | null,
  jobs: string[] | null,
): ChannelRow[] {
  return repo.where({ enabled: 1 }).filter((channel) => {
    if (event !== null && !eventsOf(channel).includes(event)) return false
    if (channel.jobs === null) return true
    const only = JSON.parse(channel.jobs) as string[]
    return jobs !== null && jobs.some((j) => only.includes(j))
  })
}

export function eventsOf(channel: ChannelRow): NotifyEvent[] {
  return JSON.parse(channel.events) as NotifyEvent[]
}
