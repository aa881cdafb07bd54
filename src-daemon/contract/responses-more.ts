// Response schemas of the rest of /v1: plugins, notification channels, health,
// agents, browser sign-in and tree archives (see responses.ts for why they are
// closed and how they are checked).
import { Type } from '@sinclair/typebox'
import { CHANNEL_KINDS, NOTIFY_EVENTS } from './notifications'
import { literals, nullable, obj } from './fields'
import { TREE_ENTRY_TYPES } from './tree'

const Str = Type.String()
const Time = Type.String({ description: 'ISO 8601 UTC' })
const Int = Type.Integer()
const Num = Type.Number()
const Bool = Type.Boolean()
const opt = Type.Optional

const FieldSpecSchema = obj({
  name: Str,
  title: Str,
  type: literals(['string', 'integer', 'boolean', 'enum', 'list'] as const),
  required: opt(Bool),
  required_unless: opt(Str),
  only_when: opt(obj({ field: Str, value: Str })),
  secret: opt(Bool),
  location: opt(Bool),
  default: opt(Type.Union([Str, Num, Bool, Type.Array(Str)])),
  help: opt(Str),
  example: opt(Str),
  values: opt(Type.Array(Str)),
  format: opt(Type.Literal('absolute-path')),
  min: opt(Num),
  max: opt(Num),
})
export const PluginInfoSchema = obj({
  name: Str,
  kind: literals(['target', 'store'] as const),
  title: Str,
  version: Str,
  author: Str,
  summary: Str,
  source: literals(['builtin', 'external'] as const),
  fields: Type.Array(FieldSpecSchema),
  capabilities: Type.Array(Str),
  extension: opt(Str),
})

const NotifyEventSchema = literals(NOTIFY_EVENTS)
export const DeliverySchema = obj({
  at: Time,
  event: Type.Union([NotifyEventSchema, Type.Literal('test')]),
  ok: Bool,
  attempts: Int,
  detail: Str,
})
export const ChannelSchema = obj({
  uuid: Str,
  name: Str,
  kind: literals(CHANNEL_KINDS),
  settings: Type.Record(Type.String(), Type.Unknown()),
  events: Type.Array(NotifyEventSchema),
  jobs: nullable(Type.Array(Str)),
  reminder_hours: Int,
  enabled: Bool,
  last_delivery: nullable(DeliverySchema),
  created_at: Time,
})
export const ChannelKindInfoSchema = obj({
  kind: literals(CHANNEL_KINDS),
  title: Str,
  summary: Str,
  fields: Type.Array(FieldSpecSchema),
})

export const HealthSignalSchema = obj({
  id: Str,
  signal: literals(['stale', 'shrunk', 'low-space', 'verify-overdue', 'invalid'] as const),
  severity: literals(['warning', 'failure'] as const),
  subject: obj({ kind: literals(['job', 'store', 'archive'] as const), uuid: Str, name: Str }),
  message: Str,
  since: Time,
  details: Type.Record(Type.String(), Type.Union([Str, Num, Type.Null()])),
})
export const HealthReportSchema = obj({
  signals: Type.Array(HealthSignalSchema),
  checked_at: nullable(Time),
})

const Named = obj({ uuid: Str, name: Str })
export const AgentViewSchema = obj({
  uuid: Str,
  name: Str,
  state: literals(['pending', 'connected', 'offline'] as const),
  host: Str,
  version: Str,
  created_at: Time,
  paired_at: nullable(Time),
  last_seen: nullable(Time),
  targets: Type.Array(Named),
})
const pairing = { uuid: Str, token: Str, command: Str, expires_at: Time }
export const AgentCreatedSchema = obj({ ok: Type.Literal('created'), ...pairing })
export const AgentTokenSchema = obj({ ok: Type.Literal('token'), ...pairing })

export const SignInResultSchema = obj({ token: Str })
export const SignInLinkSchema = obj({ url: Str, path: Str, expires_at: Time })

const TreeEntrySchema = obj({
  path: Str,
  name: Str,
  type: literals(TREE_ENTRY_TYPES),
  size: Num,
  mode: Int,
  mtime: Time,
  uid: Int,
  gid: Int,
  user: opt(Str),
  group: opt(Str),
  target: opt(Str),
  children: opt(Int),
})
export const TreePageSchema = obj({
  path: Str,
  entries: Type.Array(TreeEntrySchema),
  next_cursor: nullable(Str),
  total: Int,
})
const TreeDiffEntrySchema = obj({
  path: Str,
  type: literals(TREE_ENTRY_TYPES),
  size: Num,
  old_size: Num,
  delta: Num,
  changes: opt(Type.Array(Str)),
})
export const TreeDiffSchema = obj({
  archive: Str,
  against: Str,
  added: Type.Array(TreeDiffEntrySchema),
  removed: Type.Array(TreeDiffEntrySchema),
  modified: Type.Array(TreeDiffEntrySchema),
  summary: obj({
    added: Int,
    removed: Int,
    modified: Int,
    added_bytes: Num,
    removed_bytes: Num,
    modified_delta: Num,
  }),
})
