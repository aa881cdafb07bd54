// Path parameters and query strings of the /v1 API, and the filter types they give.
import { Type, type Static } from '@sinclair/typebox'
import { Name, Owner, Strict, Uuid } from './fields'

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
/** A list's page: X-Next-Cursor of the previous page, opaque (a key, not an offset). */
const Cursor = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'the X-Next-Cursor header of the previous page',
})
export const TASK_STATUSES = ['pending', 'running', 'canceled', 'failed', 'done'] as const
export const ARCHIVE_STATUSES = ['valid', 'invalid', 'expired', 'purged'] as const
export const TASK_OPS = ['backup', 'restore', 'purge', 'verify', 'gc'] as const
const StatusEnum = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v)))

/** Paging of a list ordered by name: `limit` per page, `cursor` the X-Next-Cursor of the last. */
export const PageQuery = Type.Object({
  limit: Type.Optional(Count),
  cursor: Type.Optional(Cursor),
})
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
  cursor: Type.Optional(Cursor),
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
  cursor: Type.Optional(Cursor),
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

export type ArchivesFilter = Static<typeof ArchivesQuery>
export type TasksFilter = Static<typeof TasksQuery>
export type JobsFilter = Static<typeof JobsQuery>
export type UsageFilter = Static<typeof UsageQuery>

export type TaskStatus = (typeof TASK_STATUSES)[number]
export type ArchiveStatus = (typeof ARCHIVE_STATUSES)[number]
export type TaskOp = (typeof TASK_OPS)[number]
