// Request bodies of the /v1 API (TypeBox schemas, validated at the edge) and
// the input types they give. Field names follow the SHIELD design so scripts
// written against it keep working.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Endpoint, Name, Owner, Priority, Strict, Summary, Uuid, UUID_PATTERN } from './fields'
import { TreeDownloadFields, TreeRestoreFields } from './tree'

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

export type TargetInput = Static<typeof TargetCreate>
export type StoreInput = Static<typeof StoreCreate>
export type ScheduleInput = Static<typeof ScheduleCreate>
export type RetentionInput = Static<typeof RetentionCreate>
export type JobInput = Static<typeof JobCreate>
export type JobUpdateInput = Static<typeof JobUpdate>
export type SchedulePreviewInput = Static<typeof SchedulePreview>
export type StoreImportInput = Static<typeof StoreImport>
