// Wire shapes of the /v1 API: request schemas (TypeBox, validated at the edge)
// and the response types. Field names follow the SHIELD design so scripts
// written against it keep working; timestamps are ISO 8601 UTC strings.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TreeDownloadFields, TreeRestoreFields } from './tree'

export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a uuid' })
const Name = Type.String({ minLength: 1, maxLength: 200 })
const Summary = Type.String({ maxLength: 4000 })
const Owner = Type.String({ minLength: 1, maxLength: 200 })
/** The seed's JSON-encoded endpoint string; a JSON object is accepted too. */
const Endpoint = Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())])
const Priority = Type.Integer({ minimum: 0, maximum: 100 })
const Strict = { additionalProperties: false }

/** On create the summary is optional; on update (PUT) it is required, as in SHIELD. */
const forCreate = <T extends Record<string, TSchema>>(fields: T) =>
  Type.Object({ ...fields, summary: Type.Optional(Summary) }, Strict)
const forUpdate = <T extends Record<string, TSchema>>(fields: T) =>
  Type.Object({ ...fields, summary: Summary }, Strict)

const targetFields = {
  name: Name,
  plugin: Name,
  endpoint: Endpoint,
  agent: Type.Optional(Type.String({ maxLength: 300 })),
}
export const TargetCreate = forCreate(targetFields)
export const TargetUpdate = forUpdate(targetFields)

const storeFields = { name: Name, plugin: Name, endpoint: Endpoint }
export const StoreCreate = forCreate(storeFields)
export const StoreUpdate = forUpdate(storeFields)

/** POST /v1/targets/test and /v1/stores/test: an endpoint not saved yet, tested as create would check it. */
export const EndpointTest = Type.Object(
  {
    plugin: Name,
    endpoint: Endpoint,
    /** A target's agent: the test runs there. */
    agent: Type.Optional(Type.String({ maxLength: 300 })),
  },
  Strict,
)
export type EndpointTestInput = Static<typeof EndpointTest>

const scheduleFields = {
  name: Name,
  when: Type.String({ minLength: 1, maxLength: 200 }),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}
export const ScheduleCreate = forCreate(scheduleFields)
export const ScheduleUpdate = forUpdate(scheduleFields)

export const MIN_RETENTION_SECONDS = 3600
/** How many of a job's newest valid archives retention keeps when none is given. */
export const DEFAULT_KEEP_MIN = 1
const retentionFields = {
  name: Name,
  expires: Type.Integer({ minimum: MIN_RETENTION_SECONDS }),
  /**
   * The newest valid archives of each job that the retention sweep never
   * expires, however old. Default 1 on create; left out of a PUT, the policy
   * keeps the number it has.
   */
  keep_min: Type.Optional(Type.Integer({ minimum: 0 })),
}
export const RetentionCreate = forCreate(retentionFields)
export const RetentionUpdate = forUpdate(retentionFields)

export const HOOK_PHASES = ['before', 'after', 'on_failure'] as const
export type HookPhase = (typeof HOOK_PHASES)[number]
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 300
export const MAX_HOOK_TIMEOUT_SECONDS = 86400
/** At most this many commands per phase: hooks are a few steps, not a script. */
export const MAX_HOOKS_PER_PHASE = 20
const HookSchema = Type.Object(
  {
    /** Run with /bin/sh -c in the daemon's environment (minus secrets) plus the job's context. */
    command: Type.String({ minLength: 1, maxLength: 4000 }),
    /** Default true for before, false for after and on_failure. */
    essential: Type.Optional(Type.Boolean()),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HOOK_TIMEOUT_SECONDS })),
  },
  Strict,
)
const HookList = Type.Array(HookSchema, {
  maxItems: MAX_HOOKS_PER_PHASE,
  description: `a list of at most ${MAX_HOOKS_PER_PHASE} hooks such as [{"command": "docker stop app"}]`,
})
/** Commands run around a backup; see docs/hooks.md. */
export const JobHooks = Type.Object(
  {
    before: Type.Optional(HookList),
    after: Type.Optional(HookList),
    on_failure: Type.Optional(HookList),
  },
  Strict,
)
export type HookInput = Static<typeof HookSchema>
export type JobHooksInput = Static<typeof JobHooks>

/** A job's RPO: at least 5 minutes, at most a year. */
export const MIN_RPO_SECONDS = 300
export const MAX_RPO_SECONDS = 366 * 86400

const jobFields = {
  name: Name,
  target: Uuid,
  store: Uuid,
  schedule: Uuid,
  retention: Uuid,
  priority: Type.Optional(Priority),
  /**
   * A schedule on which the job's newest valid archive is verified; null for
   * none. Left out of a PUT, the job keeps the one it has.
   */
  verify_schedule: Type.Optional(
    Type.Union([Uuid, Type.Null()], {
      description: 'a schedule uuid such as 6b8398be-fdc0-424a-8532-e812e5dfc116, or null',
    }),
  ),
  /** Commands run before and after a backup, and on failure. Left out of a PUT, the job keeps its hooks. */
  hooks: Type.Optional(JobHooks),
  /**
   * The recovery point objective in seconds: the health signal "stale" is
   * raised when the newest valid archive is older. Null: twice the schedule's
   * period. Left out of a PUT, the job keeps the one it has.
   */
  rpo_seconds: Type.Optional(
    Type.Union(
      [Type.Integer({ minimum: MIN_RPO_SECONDS, maximum: MAX_RPO_SECONDS }), Type.Null()],
      {
        description: `seconds between ${MIN_RPO_SECONDS} and ${MAX_RPO_SECONDS}, such as 93600 (26 hours), or null`,
      },
    ),
  ),
}
export const JobCreate = forCreate({ ...jobFields, paused: Type.Optional(Type.Boolean()) })
export const JobUpdate = forUpdate(jobFields)
export const JobRun = Type.Object(
  {
    owner: Type.Optional(Owner),
    /** Directory targets: read every file, even those whose metadata is unchanged. */
    full_read: Type.Optional(Type.Boolean()),
  },
  Strict,
)

export const ArchiveUpdate = Type.Object({ notes: Type.String({ maxLength: 4000 }) }, Strict)
export const ArchiveRestore = Type.Object(
  { target: Type.Optional(Uuid), owner: Type.Optional(Owner), ...TreeRestoreFields },
  Strict,
)
export type ArchiveRestoreInput = Static<typeof ArchiveRestore>

/** GET /v1/archive/:uuid/diff?against=UUID: what changed from `against` (the older) to :uuid; both trees. */
export const TreeDiffQuery = Type.Object(
  { against: Type.String({ pattern: UUID_PATTERN, description: 'an archive uuid' }) },
  Strict,
)

export const ArchiveVerify = Type.Object({ owner: Type.Optional(Owner) }, Strict)

/** GET /v1/archive/:uuid/download: a ticket from download-link stands in for the bearer token. */
export const ArchiveDownloadQuery = Type.Object({
  ticket: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  ...TreeDownloadFields,
})
/** POST /v1/archive/:uuid/download-link: for a tree archive, a link to one file or directory. */
export const ArchiveDownloadLink = Type.Object(TreeDownloadFields, Strict)

/**
 * Vault passwords: only their type is checked by the schema, their length by
 * the service, so that a rejected password is never echoed in an error.
 */
const Password = Type.String()
/** The endpoint field of a store that holds its vault password (the daemon's, never the plugin's). */
export const VAULT_PASSWORD = 'vault_password'
export const MIN_VAULT_PASSWORD = 8
export const MAX_VAULT_PASSWORD = 4096
export const VaultPasswordChange = Type.Object(
  { new_password: Password, password: Type.Optional(Password) },
  Strict,
)
export const VaultSlotCreate = Type.Object(
  { password: Password, label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  Strict,
)
/** POST /v1/store/:uuid/vault/recover: rewrites a lost vault.json from the recovery kit. */
export const VaultRecover = Type.Object(
  {
    recovery_key: Type.String({ minLength: 1, maxLength: 10_000 }),
    password: Type.Optional(Password),
  },
  Strict,
)
export type VaultRecoverInput = Static<typeof VaultRecover>
export const LockParams = Type.Object({
  uuid: Uuid,
  id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'a lock id (32 hex digits)' }),
})

/** The body of POST /v1/stores/import: a store create body whose endpoint opens the vault. */
export const StoreImport = StoreCreate

export const SchedulePreview = Type.Object(
  {
    when: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  Strict,
)

export const UuidParams = Type.Object({ uuid: Uuid })
export const NameParams = Type.Object({ name: Name })
export const SlotParams = Type.Object({
  uuid: Uuid,
  id: Type.String({ minLength: 1, maxLength: 200 }),
})

// Query strings: every value arrives as a string, so schemas match strings only.
const Flag = Type.Union([
  Type.Literal('t'),
  Type.Literal('f'),
  Type.Literal('true'),
  Type.Literal('false'),
])
const Day = Type.String({ pattern: '^[0-9]{8}$', description: 'a date as YYYYMMDD' })
const Count = Type.String({ pattern: '^[0-9]{1,6}$', description: 'a whole number' })
export const TASK_STATUSES = ['pending', 'running', 'canceled', 'failed', 'done'] as const
export const ARCHIVE_STATUSES = ['valid', 'invalid', 'expired', 'purged'] as const
export const TASK_OPS = ['backup', 'restore', 'purge', 'verify', 'gc'] as const
const StatusEnum = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v)))

export const UsageQuery = Type.Object({ unused: Type.Optional(Flag), plugin: Type.Optional(Name) })
export const JobsQuery = Type.Object({
  target: Type.Optional(Uuid),
  store: Type.Optional(Uuid),
  schedule: Type.Optional(Uuid),
  retention: Type.Optional(Uuid),
  paused: Type.Optional(Flag),
})
export const ArchivesQuery = Type.Object({
  target: Type.Optional(Uuid),
  store: Type.Optional(Uuid),
  job: Type.Optional(Uuid),
  after: Type.Optional(Day),
  before: Type.Optional(Day),
  status: Type.Optional(StatusEnum(ARCHIVE_STATUSES)),
  limit: Type.Optional(Count),
})
export const TasksQuery = Type.Object({
  /** A status, `active` (pending or running) or `all`. */
  status: Type.Optional(
    Type.Union([StatusEnum(TASK_STATUSES), Type.Literal('active'), Type.Literal('all')]),
  ),
  /** Only tasks of this type (backup, restore, purge, verify or gc). */
  type: Type.Optional(StatusEnum(TASK_OPS)),
  job: Type.Optional(Uuid),
  archive: Type.Optional(Uuid),
  limit: Type.Optional(Count),
  debug: Type.Optional(Type.String()),
})
/** DELETE /v1/task/:uuid?owner=NAME: who cancels, recorded in the task's log (default anon). */
export const TaskCancelQuery = Type.Object({ owner: Type.Optional(Owner) }, Strict)
/** GET /v1/task/:uuid?since=SEQ: the log holds only the lines after SEQ (a follower catching up). */
export const TaskQuery = Type.Object({
  since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'a log seq' })),
})
export const PluginsQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('target'), Type.Literal('store')])),
})

export type TargetInput = Static<typeof TargetCreate>
export type StoreInput = Static<typeof StoreCreate>
export type ScheduleInput = Static<typeof ScheduleCreate>
export type RetentionInput = Static<typeof RetentionCreate>
export type JobInput = Static<typeof JobCreate>
export type JobUpdateInput = Static<typeof JobUpdate>
export type SchedulePreviewInput = Static<typeof SchedulePreview>
export type ArchivesFilter = Static<typeof ArchivesQuery>
export type TasksFilter = Static<typeof TasksQuery>
export type JobsFilter = Static<typeof JobsQuery>
export type UsageFilter = Static<typeof UsageQuery>

export type VaultPasswordInput = Static<typeof VaultPasswordChange>
export type VaultSlotInput = Static<typeof VaultSlotCreate>
export type StoreImportInput = Static<typeof StoreImport>

export type TaskStatus = (typeof TASK_STATUSES)[number]
export type ArchiveStatus = (typeof ARCHIVE_STATUSES)[number]
export type TaskOp = (typeof TASK_OPS)[number]

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

/** A key slot of a vault: one password that opens it (the password itself is never served). */
export interface VaultKeySlot {
  id: string
  label: string
  created_at: string
}

/**
 * A lock object in a store's vault (locks/<id>): GC, rescan and import hold
 * an exclusive one; backups, restores and verifies a shared one. A lock whose
 * holder stopped refreshing it for longer than its lease (or whose process on
 * this host is gone) is stale and may be broken.
 */
export interface StoreLock {
  id: string
  exclusive: boolean
  /** What holds it: "gc", "backup", "rescan", ... */
  operation: string
  host: string
  pid: number
  /** The data directory (daemon) that holds it. */
  daemon: string
  created_at: string
  refreshed_at: string
  /** How long a lock lives without a refresh, in seconds. */
  lease_seconds: number
  stale: boolean
  /** Whether this daemon holds it. */
  ours: boolean
}

/** GET /v1/store/:uuid/locks */
export interface StoreLocks {
  locks: StoreLock[]
}

/** DELETE /v1/store/:uuid/lock/:id: a lock that is not stale is kept unless force=t. */
export const LockBreakQuery = Type.Object({
  force: Type.Optional(
    Type.Union([Type.Literal('t'), Type.Literal('true'), Type.Literal('f'), Type.Literal('false')]),
  ),
})

/** GET /v1/store/:uuid/vault */
export interface VaultInfo {
  vault_id: string
  created_at: string
  chunking: { min: number; avg: number; max: number }
  key_slots: VaultKeySlot[]
  /** Chunks in the store, as far as the catalog knows. */
  chunks: number
  /** Stored (compressed, encrypted) bytes of those chunks. */
  stored_bytes: number
  /** Archives of the store that are not purged. */
  archives: number
  /** Their plaintext bytes. */
  logical_bytes: number
}

/** POST /v1/stores/import */
export interface ImportResult {
  ok: 'created'
  uuid: string
  /** Archives added to the catalog. */
  archives: number
  /** Manifests found in the store that could not be read (damaged); listed in the daemon log. */
  skipped: number
}

/** POST /v1/store/:uuid/import (a rescan of a store already in the catalog) */
export interface RescanResult {
  ok: 'updated'
  /** Archives found in the store that the catalog lacked, now listed. */
  archives: number
  /** Manifests that could not be opened (damaged). */
  skipped: number
  /** Archives the catalog listed whose manifest is gone from the store, now marked purged. */
  gone: number
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
