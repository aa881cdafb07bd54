// Row shapes as stored in the catalog (times in ms, booleans as 0/1).
import type { ArchiveStatus, TaskOp, TaskStatus } from '../contract'

export interface TargetRow {
  uuid: string
  name: string
  summary: string
  plugin: string
  endpoint: string
  agent: string
  created_at: number
  updated_at: number
}

export type StoreRow = Omit<TargetRow, 'agent'>

export interface AgentRow {
  uuid: string
  name: string
  public_key: string
  token_hash: string
  token_expires_at: number | null
  host: string
  version: string
  created_at: number
  paired_at: number | null
  last_seen: number | null
}

export interface ScheduleRow {
  uuid: string
  name: string
  summary: string
  timespec: string
  timezone: string
  created_at: number
  updated_at: number
}

export interface RetentionRow {
  uuid: string
  name: string
  summary: string
  expiry: number
  /** The newest valid archives of each job the retention sweep never expires. */
  keep_min: number
  created_at: number
  updated_at: number
}

export interface JobRow {
  uuid: string
  name: string
  summary: string
  target_uuid: string
  store_uuid: string
  schedule_uuid: string
  retention_uuid: string
  priority: number
  paused: number
  last_fired_at: number | null
  /** The schedule on which the job's newest valid archive is verified, if any. */
  verify_schedule_uuid: string | null
  /** The scheduled verify time the scheduler last dealt with. */
  last_verify_fired_at: number | null
  /** Commands run around its backups, as JSON (JobHooksInput); '{}' for none. */
  hooks: string
  /** How old the newest valid archive may get before "stale" (null: twice the schedule's period). */
  rpo_seconds: number | null
  created_at: number
  updated_at: number
}

export interface ArchiveRow {
  uuid: string
  job_uuid: string | null
  target_uuid: string
  store_uuid: string
  store_key: string
  taken_at: number
  expires_at: number
  notes: string
  status: ArchiveStatus
  target_plugin: string
  size: number | null
  purged_at: number | null
  /** 'vault': chunks + a manifest; 'blob': one sealed vault blob at store_key; 'plain': one unencrypted blob (older archives). */
  format?: 'plain' | 'vault' | 'blob' | 'tree'
  new_bytes?: number | null
  stored_bytes?: number | null
  chunk_count?: number | null
  /** The target's name when the archive was made (or as its manifest says, when imported). */
  origin_target_name?: string | null
  /** Where the target pointed then (its non-secret endpoint fields, as text). */
  origin_target_location?: string | null
}

export interface TaskRow {
  uuid: string
  owner: string
  op: TaskOp
  job_uuid: string | null
  archive_uuid: string | null
  target_uuid: string | null
  store_uuid: string | null
  status: TaskStatus
  priority: number
  requested_at: number
  started_at: number | null
  stopped_at: number | null
  bytes: number
  progress: number | null
  error: string | null
  /** JSON of what the task was asked beyond its columns (tasks/task-params.ts); null: nothing. */
  params?: string | null
}

export interface TaskLogRow {
  task_uuid: string
  seq: number
  at: number
  line: string
}
