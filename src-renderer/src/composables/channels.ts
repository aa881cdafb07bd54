// Notification channels in words: what each event is called, the presets a
// person picks from ("Failures only", "Everything"), and what a channel's
// rule and last delivery say in a list.
import {
  DEFAULT_NOTIFY_EVENTS,
  NOTIFY_EVENTS,
  REDACTED,
  type FieldSpec,
  type NotifyEvent,
} from '../../../src-daemon/contract'
import { ApiError } from '../../../src-daemon/client'
import { toEndpoint, type EndpointModel } from './endpoint'

export const EVENT_LABELS: Record<NotifyEvent, string> = {
  'backup.started': 'Backup started',
  'backup.failed': 'Backup failed',
  'backup.succeeded': 'Backup succeeded',
  'backup.recovered': 'Backup works again after failing',
  'restore.finished': 'Restore finished',
  'restore.failed': 'Restore failed',
  'verify.damage': 'Verify found damage',
  'purge.failed': 'Purge failed',
  'gc.failed': 'Garbage collection failed',
  'health.stale': 'No recent valid backup (stale)',
  'health.shrunk': 'Archive much smaller than usual',
  'health.low-space': 'Store running out of space',
  'health.verify-overdue': 'Verify overdue',
}

/** The events in the groups the editor shows them in. */
export const EVENT_GROUPS: { title: string; events: NotifyEvent[] }[] = [
  {
    title: 'Backups',
    events: ['backup.failed', 'backup.recovered', 'backup.succeeded', 'backup.started'],
  },
  { title: 'Restores', events: ['restore.failed', 'restore.finished'] },
  { title: 'Checks and clean-up', events: ['verify.damage', 'purge.failed', 'gc.failed'] },
  {
    title: 'Health warnings',
    events: ['health.stale', 'health.shrunk', 'health.low-space', 'health.verify-overdue'],
  },
]

export type EventPreset = 'failures' | 'everything' | 'custom'

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && b.every((x) => a.includes(x))

export function presetOf(events: readonly NotifyEvent[]): EventPreset {
  if (sameSet(events, DEFAULT_NOTIFY_EVENTS)) return 'failures'
  if (sameSet(events, NOTIFY_EVENTS)) return 'everything'
  return 'custom'
}

export function eventsOfPreset(p: Exclude<EventPreset, 'custom'>): NotifyEvent[] {
  return p === 'failures' ? [...DEFAULT_NOTIFY_EVENTS] : [...NOTIFY_EVENTS]
}

/** "Failures only", "Everything", "Backup failed", "3 events". */
export function eventsSummary(events: readonly NotifyEvent[]): string {
  const p = presetOf(events)
  if (p === 'failures') return 'Failures only'
  if (p === 'everything') return 'Everything'
  if (events.length === 0) return 'Nothing'
  if (events.length === 1) return EVENT_LABELS[events[0]!]
  return `${events.length} events`
}

/** Each event by its label, in the order the editor lists them. */
export function eventLabels(events: readonly NotifyEvent[]): string[] {
  return EVENT_GROUPS.flatMap((g) => g.events)
    .filter((e) => events.includes(e))
    .map((e) => EVENT_LABELS[e])
}

/**
 * The settings to send. A secret list (a webhook's secret headers) is shown
 * back by the daemon as one "<redacted>" entry: kept as it is, it is sent as
 * REDACTED, which keeps the stored one, as a secret string left alone is.
 */
export function toSettings(fields: FieldSpec[], model: EndpointModel): Record<string, unknown> {
  const out = toEndpoint(fields, model)
  for (const f of fields) {
    const v = out[f.name]
    if (f.secret && Array.isArray(v) && v.length === 1 && v[0] === REDACTED) out[f.name] = REDACTED
  }
  return out
}

/** Where a daemon's 400 belongs: a settings field ("settings.topic" → topic), a top field, or none. */
export function channelErrorField(
  err: unknown,
): { settings: string } | { top: string } | undefined {
  if (!(err instanceof ApiError) || !err.field) return undefined
  const f = err.field
  if (f.startsWith('settings.')) return { settings: f.slice('settings.'.length) }
  if (f.startsWith('/settings/')) return { settings: f.slice('/settings/'.length) }
  // "events/2", "jobs.0": the list as a whole.
  return { top: f.replace(/^\//, '').split(/[./]/)[0]! }
}
