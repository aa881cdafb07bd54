// Response schemas of the /v1 resources (TypeBox): what each route answers,
// declared in its `schema.response` and published in GET /v1/openapi.json.
// They mirror the types in resources.ts and vault.ts; test/unit/contract-
// responses.test.ts checks both agree, and test/integration/api-openapi.test.ts
// checks real answers against them. Objects are closed (no other fields), so a
// field the daemon sends but the schema lacks fails that test.
import { Type } from '@sinclair/typebox'
import { ErrorCode } from './errors'
import { literals, nullable, obj } from './fields'
import { ARCHIVE_STATUSES, TASK_OPS, TASK_STATUSES } from './queries'

const Str = Type.String()
const Time = Type.String({ description: 'ISO 8601 UTC' })
const Int = Type.Integer()
const Num = Type.Number()
const Bool = Type.Boolean()

export const TargetSchema = obj({
  uuid: Str,
  name: Str,
  summary: Str,
  plugin: Str,
  endpoint: Type.String({ description: 'JSON-encoded endpoint, secrets redacted' }),
  agent: Str,
})
export const StoreSchema = obj({ uuid: Str, name: Str, summary: Str, plugin: Str, endpoint: Str })
export const ScheduleSchema = obj({
  uuid: Str,
  name: Str,
  summary: Str,
  when: Str,
  timezone: Str,
  description: Str,
  next_run: nullable(Time),
})
export const RetentionSchema = obj({
  uuid: Str,
  name: Str,
  summary: Str,
  expires: Int,
  keep_min: Int,
})
const HookOut = obj({ command: Str, essential: Bool, timeout_seconds: Int })
const TaskStatusSchema = literals(TASK_STATUSES)
export const JobSchema = obj({
  uuid: Str,
  name: Str,
  summary: Str,
  priority: Int,
  paused: Bool,
  retention_name: Str,
  retention_uuid: Str,
  expiry: Int,
  schedule_name: Str,
  schedule_uuid: Str,
  schedule: Str,
  timezone: Str,
  next_run: nullable(Time),
  store_uuid: Str,
  store_name: Str,
  store_plugin: Str,
  store_endpoint: Str,
  target_uuid: Str,
  target_name: Str,
  target_plugin: Str,
  target_endpoint: Str,
  last_run: nullable(Time),
  last_status: nullable(TaskStatusSchema),
  verify_schedule_uuid: nullable(Str),
  verify_schedule_name: nullable(Str),
  verify_schedule: nullable(Str),
  verify_timezone: nullable(Str),
  next_verify: nullable(Time),
  hooks: obj({
    before: Type.Array(HookOut),
    after: Type.Array(HookOut),
    on_failure: Type.Array(HookOut),
  }),
  rpo_seconds: nullable(Int),
})
export const ArchiveSchema = obj({
  uuid: Str,
  job_uuid: nullable(Str),
  store_key: Str,
  taken_at: Time,
  expires_at: Time,
  notes: Str,
  status: literals(ARCHIVE_STATUSES),
  size: nullable(Num),
  store_uuid: Str,
  store_name: nullable(Str),
  store_plugin: nullable(Str),
  store_endpoint: nullable(Str),
  target_uuid: Str,
  target_name: nullable(Str),
  target_plugin: nullable(Str),
  target_endpoint: nullable(Str),
  format: literals(['plain', 'vault', 'blob', 'tree'] as const),
  new_bytes: nullable(Num),
  stored_bytes: nullable(Num),
  chunk_count: nullable(Int),
  origin_target_name: nullable(Str),
  origin_target_location: nullable(Str),
})
export const TaskSchema = obj({
  uuid: Str,
  owner: Str,
  type: literals(TASK_OPS),
  job_uuid: nullable(Str),
  archive_uuid: nullable(Str),
  target_uuid: nullable(Str),
  store_uuid: nullable(Str),
  status: TaskStatusSchema,
  priority: Int,
  requested_at: Time,
  started_at: nullable(Time),
  stopped_at: nullable(Time),
  bytes: Num,
  progress: nullable(Num),
  error: nullable(Str),
  log: Str,
  log_lines: Int,
})
const Counts = <K extends string>(keys: readonly K[]) =>
  obj(Object.fromEntries(keys.map((k) => [k, Int])) as Record<K, typeof Int>)
export const DaemonStatusSchema = obj({
  version: Str,
  started_at: Time,
  uptime_seconds: Num,
  data_dir: Str,
  timezone: Str,
  counts: Counts(['targets', 'stores', 'schedules', 'retention', 'jobs', 'archives'] as const),
  tasks: Counts(TASK_STATUSES),
  vault_format: Type.Integer({
    description: 'the vault format version this daemon reads and writes',
  }),
})
export const SchedulePreviewResultSchema = obj({
  when: Str,
  timezone: Str,
  cron: Str,
  description: Str,
  next: Type.Array(Time),
})
export const ConnectionTestSchema = obj({ ok: Bool, message: Str, duration_ms: Num })
export const PingSchema = obj({ ok: Type.Literal('pong'), version: Str })
export const CreatedSchema = obj({ ok: Type.Literal('created'), uuid: Str })
export const UpdatedSchema = obj({ ok: Type.Literal('updated') })
export const DeletedSchema = obj({ ok: Type.Literal('deleted') })
export const ScheduledSchema = obj({ ok: Type.Literal('scheduled'), task_uuid: Str })
/** DELETE /v1/archive/:uuid: the purge task, unless the archive had expired already. */
export const ArchiveDeletedSchema = obj({
  ok: Type.Literal('deleted'),
  task_uuid: Type.Optional(Str),
})
export const TaskCanceledSchema = obj({ ok: literals(['canceled', 'stopping'] as const) })
export const DownloadLinkSchema = obj({ url: Str, expires_at: Time })

const KeySlot = obj({ id: Str, label: Str, created_at: Time })
export const VaultInfoSchema = obj({
  vault_id: Str,
  created_at: Time,
  chunking: obj({ min: Int, avg: Int, max: Int }),
  key_slots: Type.Array(KeySlot),
  chunks: Int,
  stored_bytes: Num,
  archives: Int,
  logical_bytes: Num,
})
export const StoreLocksSchema = obj({
  locks: Type.Array(
    obj({
      id: Str,
      exclusive: Bool,
      operation: Str,
      host: Str,
      pid: Int,
      daemon: Str,
      created_at: Time,
      refreshed_at: Time,
      lease_seconds: Num,
      stale: Bool,
      ours: Bool,
    }),
  ),
})
export const ImportResultSchema = obj({
  ok: Type.Literal('created'),
  uuid: Str,
  archives: Int,
  skipped: Int,
})
export const RescanResultSchema = obj({
  ok: Type.Literal('updated'),
  archives: Int,
  skipped: Int,
  gone: Int,
})

/** Every error: `{error: {code, message, field?, details?}}` (errors.ts). */
export const ApiErrorSchema = obj({
  error: obj({
    code: literals(Object.values(ErrorCode)),
    message: Str,
    field: Type.Optional(Str),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
})
