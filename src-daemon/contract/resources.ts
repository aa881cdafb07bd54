// Response types of the /v1 API's resources: what GET returns for targets,
// stores, schedules, retention policies, jobs, archives and tasks, and the
// small answers of writes. Their schemas are in responses.ts; timestamps are
// ISO 8601 UTC strings.
import type { HookPhase } from './requests'
import type { ArchiveStatus, TaskOp, TaskStatus } from './queries'

export interface Target {
  uuid: string
  name: string
  summary: string
  plugin: string
  /** JSON-encoded endpoint with secret values replaced by REDACTED. */
  endpoint: string
  agent: string
}

export interface Store {
  uuid: string
  name: string
  summary: string
  plugin: string
  endpoint: string
}

export interface Schedule {
  uuid: string
  name: string
  summary: string
  when: string
  timezone: string
  /** Canonical English reading of `when`. */
  description: string
  next_run: string | null
}

export interface Retention {
  uuid: string
  name: string
  summary: string
  /** Seconds an archive is kept. */
  expires: number
  /** The newest valid archives of each job that never expire by retention. */
  keep_min: number
}

export interface Job {
  uuid: string
  name: string
  summary: string
  priority: number
  paused: boolean
  retention_name: string
  retention_uuid: string
  expiry: number
  schedule_name: string
  schedule_uuid: string
  schedule: string
  timezone: string
  next_run: string | null
  store_uuid: string
  store_name: string
  store_plugin: string
  store_endpoint: string
  target_uuid: string
  target_name: string
  target_plugin: string
  target_endpoint: string
  last_run: string | null
  last_status: TaskStatus | null
  /** The schedule on which the job's newest valid archive is verified (null: none). */
  verify_schedule_uuid: string | null
  verify_schedule_name: string | null
  /** Its `when`, as `schedule` is the backup schedule's. */
  verify_schedule: string | null
  verify_timezone: string | null
  /** When the next scheduled verify is due (null: none, or the job is paused). */
  next_verify: string | null
  /** Commands run around its backups, with every default filled in (empty lists: none). */
  hooks: Record<HookPhase, Hook[]>
  /** The recovery point objective in seconds (null: twice the schedule's period). */
  rpo_seconds: number | null
}

/** A command run around a backup (docs/hooks.md). */
export interface Hook {
  command: string
  /** Whether its failure fails the backup (before) or the task (after, on_failure). */
  essential: boolean
  timeout_seconds: number
}

export interface Archive {
  uuid: string
  job_uuid: string | null
  store_key: string
  taken_at: string
  expires_at: string
  notes: string
  status: ArchiveStatus
  size: number | null
  store_uuid: string
  store_name: string | null
  store_plugin: string | null
  store_endpoint: string | null
  target_uuid: string
  target_name: string | null
  target_plugin: string | null
  target_endpoint: string | null
  /**
   * 'vault': chunked, deduplicated, encrypted stream; 'tree': a directory as a
   * vault tree (each file chunked on its own, browsable); 'plain': one blob at store_key.
   */
  format: ArchiveFormat
  /** Stored bytes this archive added to its store (null when unknown, e.g. imported). */
  new_bytes: number | null
  /** Stored bytes of every distinct chunk the archive references. */
  stored_bytes: number | null
  /** Chunk references in its manifest (1 for a plain archive). */
  chunk_count: number | null
  /**
   * The target's name when the archive was made (from its manifest, for an
   * imported archive): what target_name was, even once the target is gone.
   */
  origin_target_name: string | null
  /** Where the target pointed then: its non-secret endpoint fields as text ("host db1, port 5432, database orders"). */
  origin_target_location: string | null
}

export type ArchiveFormat = 'plain' | 'vault' | 'blob' | 'tree'

/** POST /v1/archive/:uuid/download-link: a link that downloads the archive once, without the token. */
export interface DownloadLink {
  /** `/v1/archive/<uuid>/download?ticket=<ticket>`, relative to the daemon. */
  url: string
  /** The link works once, until then (60 s after it was made). */
  expires_at: string
}

export interface Task {
  uuid: string
  owner: string
  type: TaskOp
  job_uuid: string | null
  archive_uuid: string | null
  target_uuid: string | null
  store_uuid: string | null
  status: TaskStatus
  priority: number
  requested_at: string
  started_at: string | null
  stopped_at: string | null
  /** Bytes moved so far. */
  bytes: number
  /** 0..1 when the total is known, else null. */
  progress: number | null
  /** One line saying why a failed task failed. */
  error: string | null
  /** The log, one "<ISO time> <line>" per line (with ?since=SEQ, only the lines after SEQ). */
  log: string
  /** The seq of the task's last log line (lines are numbered from 1; 0: none yet). */
  log_lines: number
}

export interface DaemonStatus {
  version: string
  started_at: string
  uptime_seconds: number
  data_dir: string
  timezone: string
  counts: {
    targets: number
    stores: number
    schedules: number
    retention: number
    jobs: number
    archives: number
  }
  tasks: Record<TaskStatus, number>
}

export interface SchedulePreviewResult {
  when: string
  timezone: string
  cron: string
  description: string
  next: string[]
}

export interface ConnectionTest {
  ok: boolean
  /** What was found, or what is wrong, in words a person can act on. */
  message: string
  duration_ms: number
}

export interface Ping {
  ok: 'pong'
  version: string
}

export interface Created {
  ok: 'created'
  uuid: string
}
export interface Updated {
  ok: 'updated'
}
export interface Deleted {
  ok: 'deleted'
}
export interface Scheduled {
  ok: 'scheduled'
  task_uuid: string
}
