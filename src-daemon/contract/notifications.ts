// Notification channels: where the daemon sends what went wrong (and, if
// asked, what went right). Settings are described by field specs, as plugin
// endpoints are, so secrets follow the same rules (write-only, <redacted> on read).
import { Type, type Static } from '@sinclair/typebox'
import type { FieldSpec, PluginInfo } from './plugins'

export const CHANNEL_KINDS = [
  'webhook',
  'slack',
  'discord',
  'teams',
  'ntfy',
  'gotify',
  'telegram',
  'email',
  'healthchecks',
] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

/** What a channel can be told about. */
export const NOTIFY_EVENTS = [
  /** Healthchecks-style channels ping /start with it; others rarely want it. */
  'backup.started',
  'backup.failed',
  'backup.succeeded',
  /** A job whose last backup failed has a backup that succeeded. */
  'backup.recovered',
  'restore.finished',
  'restore.failed',
  'verify.damage',
  'purge.failed',
  'gc.failed',
  'health.stale',
  'health.shrunk',
  'health.low-space',
  'health.verify-overdue',
] as const
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

/** "Failures only": the default rule of a new channel. */
export const DEFAULT_NOTIFY_EVENTS: NotifyEvent[] = [
  'backup.failed',
  'backup.recovered',
  'restore.failed',
  'verify.damage',
  'purge.failed',
  'gc.failed',
  'health.stale',
  'health.shrunk',
  'health.low-space',
  'health.verify-overdue',
]

/** A kind of channel as the UI and CLI show it: its settings as field specs. */
export interface ChannelKindInfo {
  kind: ChannelKind
  title: string
  summary: string
  fields: FieldSpec[]
}

/**
 * A kind's settings in the shape the endpoint helpers take (the daemon's
 * checks and secrets, the CLI's --set typing and --set-secret): settings are
 * field specs, as a plugin's endpoint is.
 */
export function channelKindAsPlugin(info: ChannelKindInfo): PluginInfo {
  return {
    name: info.kind,
    kind: 'target',
    title: info.title,
    version: '',
    author: '',
    summary: info.summary,
    source: 'builtin',
    fields: info.fields,
    capabilities: [],
  }
}

/** One message, built once by the rules and rendered by each channel kind. */
export interface Notice {
  event: NotifyEvent | 'test'
  severity: 'failure' | 'warning' | 'recovery' | 'success' | 'info'
  /** One line: "Backup of nightly-db failed". */
  title: string
  /** A few lines a person can act on (never a secret). */
  body: string
  at: string
  job?: { uuid: string; name: string }
  task?: { uuid: string; url: string | null }
  /** Where to look in the UI, when the daemon knows its own address. */
  url?: string | null
  /** Figures (bytes, duration_ms, error, ...) for templates. */
  fields: Record<string, string | number | null>
}

const Uuid = Type.String({ pattern: '^[0-9a-fA-F-]{36}$', description: 'a uuid' })
const channelFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Union(CHANNEL_KINDS.map((k) => Type.Literal(k))),
  settings: Type.Record(Type.String(), Type.Unknown()),
  /** Which events it receives; default DEFAULT_NOTIFY_EVENTS ("failures only"). */
  events: Type.Optional(Type.Array(Type.Union(NOTIFY_EVENTS.map((e) => Type.Literal(e))))),
  /** Which jobs; null or left out: all jobs. */
  jobs: Type.Optional(Type.Union([Type.Array(Uuid), Type.Null()])),
  /** A job that keeps failing is re-announced after this many hours (0: never; default 24). */
  reminder_hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 8760 })),
  enabled: Type.Optional(Type.Boolean()),
}
export const ChannelCreate = Type.Object(channelFields, { additionalProperties: false })
export const ChannelUpdate = Type.Object(channelFields, { additionalProperties: false })
export type ChannelCreateInput = Static<typeof ChannelCreate>

export interface Delivery {
  at: string
  event: NotifyEvent | 'test'
  ok: boolean
  /** Attempts made (retries with backoff). */
  attempts: number
  /** The receiver's answer or the error, without secrets. */
  detail: string
}

export interface Channel {
  uuid: string
  name: string
  kind: ChannelKind
  /** Secrets read back as <redacted>. */
  settings: Record<string, unknown>
  events: NotifyEvent[]
  jobs: string[] | null
  reminder_hours: number
  enabled: boolean
  last_delivery: Delivery | null
  created_at: string
}
