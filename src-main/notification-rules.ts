// Which daemon happenings become desktop notifications, how much each
// matters, and what clicking one opens. Pure: the feed (daemon-feed.ts) finds
// the happenings, the adapter shows what these rules return.
import type { DaemonEvent, Task } from '../src-daemon/contract'
import type { NotificationLevel } from './settings'
import { archiveRoute, jobRoute, taskRoute, type OpenTarget } from './tray-model'

/**
 * How much a notification matters. 'failure': something broke (shown unless
 * notifications are off). 'outcome': the end of something the person started
 * and waits for, a restore (shown unless off). 'info': a success nobody waits
 * for (shown only with all).
 */
export type Importance = 'failure' | 'outcome' | 'info'

export interface DesktopNotification {
  title: string
  body: string
  importance: Importance
  /** What clicking it opens. */
  open: OpenTarget
}

/** What the notification rules look at: daemon events, with the task's details looked up. */
export type Happening =
  | { kind: 'task-ended'; task: Task; jobName: string | null }
  | { kind: 'health'; event: Extract<DaemonEvent, { type: 'health' }> }
  | { kind: 'daemon-failing'; reason: string }

export function shows(level: NotificationLevel, importance: Importance): boolean {
  if (level === 'off') return false
  return level === 'all' || importance !== 'info'
}

/** The notification for a happening, or null when there is none or the level hides it. */
export function notificationFor(
  h: Happening,
  level: NotificationLevel,
): DesktopNotification | null {
  const n = describe(h)
  return n && shows(level, n.importance) ? n : null
}

function describe(h: Happening): DesktopNotification | null {
  if (h.kind === 'daemon-failing') {
    return {
      title: 'Bulwark keeps stopping',
      body: `Backups are not running: ${h.reason}. Open the logs to see why.`,
      importance: 'failure',
      open: { kind: 'logs' },
    }
  }
  if (h.kind === 'health') {
    const { state, signal } = h.event
    if (state !== 'raised') return null
    const open =
      signal.subject.kind === 'job'
        ? jobRoute(signal.subject.uuid)
        : signal.subject.kind === 'archive'
          ? archiveRoute(signal.subject.uuid)
          : ({ kind: 'route', path: '/stores' } as const)
    const title =
      signal.signal === 'stale'
        ? `No recent backup of ${signal.subject.name}`
        : signal.signal === 'invalid'
          ? `Damage found in ${signal.subject.name}`
          : `Bulwark: ${signal.subject.name}`
    // A stale job or damage is a failure whatever its severity says: the backups are not there.
    const failure =
      signal.severity === 'failure' || signal.signal === 'stale' || signal.signal === 'invalid'
    return { title, body: signal.message, importance: failure ? 'failure' : 'info', open }
  }
  const { task, jobName } = h
  const what = jobName ?? (task.archive_uuid ? 'an archive' : 'a job')
  const open = taskRoute(task.uuid)
  const why = task.error ? `: ${task.error}` : ''
  if (task.status === 'canceled') return null
  switch (task.type) {
    case 'backup':
      return task.status === 'failed'
        ? {
            title: `Backup of ${what} failed`,
            body: `The backup failed${why}.`,
            importance: 'failure',
            open,
          }
        : {
            title: `Backup of ${what} finished`,
            body: 'The backup finished.',
            importance: 'info',
            open,
          }
    case 'restore':
      return task.status === 'failed'
        ? {
            title: `Restore of ${what} failed`,
            body: `The restore failed${why}.`,
            importance: 'failure',
            open,
          }
        : {
            title: `Restore of ${what} finished`,
            body: 'The restore finished.',
            importance: 'outcome',
            open,
          }
    case 'verify':
      return task.status === 'failed'
        ? {
            title: `Verify of ${what} found a problem`,
            body: `The verify failed${why}.`,
            importance: 'failure',
            open,
          }
        : {
            title: `Verify of ${what} passed`,
            body: 'Every byte of the archive checked out.',
            importance: 'info',
            open,
          }
    default:
      return task.status === 'failed'
        ? {
            title: `Bulwark: a ${task.type} task failed`,
            body: `It failed${why}.`,
            importance: 'failure',
            open,
          }
        : null
  }
}
