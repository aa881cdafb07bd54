// What a channel's settings are made of, for the channel service: each kind's
// field specs in the shape the endpoint checks (services/endpoints.ts) take,
// their errors worded for settings, and secret lists (webhook secret headers)
// kept in the secret store as one JSON string.
import {
  BulwarkError,
  CHANNEL_KINDS,
  channelKindAsPlugin,
  DEFAULT_NOTIFY_EVENTS,
  invalid,
  type ChannelKind,
  type NotifyEvent,
  type PluginInfo,
} from '../contract'
import { CHANNEL_KIND_INFO } from '../notify/kinds'

/** The events a new healthchecks channel gets: it pings on every run, not only on failures. */
export const HEALTHCHECKS_EVENTS: NotifyEvent[] = [
  'backup.started',
  'backup.succeeded',
  'backup.failed',
  'backup.recovered',
]

/** A kind's field specs in the shape the endpoint checks take. */
export const asPlugin = (kind: ChannelKind): PluginInfo =>
  channelKindAsPlugin(CHANNEL_KIND_INFO[kind])

/** A kind's secret settings that are lists: kept as one JSON string each. */
export const listSecrets = (kind: ChannelKind) =>
  new Set(
    CHANNEL_KIND_INFO[kind].fields.filter((f) => f.secret && f.type === 'list').map((f) => f.name),
  )

/**
 * The endpoint checks speak of "endpoint.x" and "the x plugin"; a channel's
 * settings are "settings.x" of "the x channel kind".
 */
export function asSettingsError(err: unknown): unknown {
  if (!(err instanceof BulwarkError) || !err.field?.startsWith('endpoint.')) return err
  const message = err.message
    .split('endpoint.')
    .join('settings.')
    .replace(/ plugin(\b|$)/, ' channel kind')
  return new BulwarkError(err.code, message, 'settings.' + err.field.slice('endpoint.'.length))
}

export function checkKind(kind: string): ChannelKind {
  if (!(CHANNEL_KINDS as readonly string[]).includes(kind)) {
    throw invalid(
      'kind',
      `kind must be one of ${CHANNEL_KINDS.join(', ')}, got ${JSON.stringify(kind)}`,
    )
  }
  return kind as ChannelKind
}

export function defaultEvents(kind: ChannelKind): NotifyEvent[] {
  return kind === 'healthchecks' ? HEALTHCHECKS_EVENTS : DEFAULT_NOTIFY_EVENTS
}

/** A secret list as stored (a JSON string), back as the list. */
export function parseList(text: unknown): string[] {
  if (typeof text !== 'string' || text === '') return []
  try {
    const value: unknown = JSON.parse(text)
    if (Array.isArray(value)) return value.map(String)
  } catch {
    // stored before lists were encoded, or by hand: one entry
  }
  return [text]
}
