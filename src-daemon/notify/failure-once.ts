// "A failing job notifies once": what one channel is told when one of its
// job's backups ends, given what it was last told. Pure, so the rule can be
// read (and tested) apart from the catalog and the courier.
import type { NotifyEvent } from '../contract/notifications'

const HOUR_MS = 3_600_000

/** What a channel was last told about a job (a row of channel_notify_state). */
export interface JobState {
  /** The job's last backup failed. */
  failing: boolean
  /** When it started failing (or succeeding). */
  since: number
  /** When the channel was last told it fails; null: not since it started failing. */
  notifiedAt: number | null
}

export interface ChannelRule {
  events: readonly NotifyEvent[]
  /** 0: never remind. */
  reminderHours: number
  /** Healthchecks-style channels are monitors: told at every run, not once. */
  monitor: boolean
}

export interface Decision {
  /** What to send, if anything. */
  send: NotifyEvent | null
  /** A failure the channel was told about already ("still failing"). */
  reminder: boolean
  /** The state to keep; undefined: keep the one there is. */
  next: JobState | undefined
  /** Why nothing is sent, for the debug log. */
  quiet?: string
}

export function decideBackup(
  rule: ChannelRule,
  state: JobState | undefined,
  failed: boolean,
  now: number,
): Decision {
  const wants = (e: NotifyEvent) => rule.events.includes(e)
  const wasFailing = state?.failing === true
  if (!failed) {
    const send =
      wasFailing && wants('backup.recovered')
        ? 'backup.recovered'
        : wants('backup.succeeded')
          ? 'backup.succeeded'
          : null
    const next =
      state === undefined || wasFailing
        ? { failing: false, since: now, notifiedAt: null }
        : undefined
    return {
      send,
      reminder: false,
      next,
      ...(send ? {} : { quiet: 'it does not ask for backup.succeeded' }),
    }
  }
  const since = wasFailing ? state.since : now
  const told = wasFailing ? state.notifiedAt : null
  const due =
    rule.monitor ||
    told === null ||
    (rule.reminderHours > 0 && now - told >= rule.reminderHours * HOUR_MS)
  if (due && wants('backup.failed')) {
    return {
      send: 'backup.failed',
      reminder: wasFailing && !rule.monitor,
      next: { failing: true, since, notifiedAt: now },
    }
  }
  const quiet = !wants('backup.failed')
    ? 'it does not ask for backup.failed'
    : rule.reminderHours > 0 && told !== null
      ? `told at ${new Date(told).toISOString()}; again after ${new Date(told + rule.reminderHours * HOUR_MS).toISOString()}`
      : `told at ${new Date(told ?? now).toISOString()}; no reminders`
  return { send: null, reminder: false, next: { failing: true, since, notifiedAt: told }, quiet }
}
