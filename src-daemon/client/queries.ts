// Query and input types of the client's methods: the contract's filters,
// with booleans and numbers accepted where the wire has strings.
import type {
  ArchivesFilter,
  Deleted,
  JobsFilter,
  JobUpdateInput,
  RetentionInput,
  ScheduleInput,
  StoreInput,
  TargetInput,
  TaskOp,
  TasksFilter,
  UsageFilter,
} from '../contract'

/** Query flags accept booleans as well as the wire's 't' / 'f'. */
type Flag = 't' | 'f' | 'true' | 'false' | boolean
export type UsageQuery = Omit<UsageFilter, 'unused'> & { unused?: Flag }
export type JobsQuery = Omit<JobsFilter, 'paused'> & { paused?: Flag }
/** `cursor`: X-Next-Cursor of the previous page (listArchivesPage's `next`). */
export type ArchivesQuery = Omit<ArchivesFilter, 'limit'> & { limit?: number | string }
export type TasksQuery = Omit<TasksFilter, 'limit' | 'type'> & {
  limit?: number | string
  type?: TaskOp
}

/** A target or store update: summary is required on PUT. */
export type TargetUpdate = TargetInput & { summary: string }
export type StoreUpdate = StoreInput & { summary: string }
export type ScheduleUpdate = ScheduleInput & { summary: string }
export type RetentionUpdate = RetentionInput & { summary: string }
export type JobUpdate = JobUpdateInput

/** DELETE /v1/archive/:uuid: the purge task that removes the data, unless already expired. */
export type ArchiveDeleted = Deleted & { task_uuid?: string }
/** DELETE /v1/task/:uuid: a pending task is canceled at once, a running one is asked to stop. */
export type TaskCanceled = { ok: 'canceled' | 'stopping' }

/** GET /v1/archive/:uuid/download: the archive's bytes as they stream in. */
export interface ArchiveDownload {
  /**
   * The body. It errors (never just ends) if the daemon cuts the download
   * short, e.g. on finding a damaged chunk after the transfer began.
   */
  body: ReadableStream<Uint8Array>
  /** The name the daemon gives it (Content-Disposition), reduced to a bare file name; null if none. */
  filename: string | null
  /** Content-Length, when the daemon knows it. */
  size: number | null
}
