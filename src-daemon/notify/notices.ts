// The words of each notice: built once from the catalog's rows, rendered by
// every channel kind. Only names, the task's error (already redacted by the
// queue, and redacted again here) and figures go in, never an endpoint.
import type { Notice, NotifyEvent } from '../contract/notifications'
import type { HealthSignal } from '../contract/health'
import type { TaskRow } from '../catalog/rows'
import { toIso } from '../platform/clock'
import { redactor } from '../platform/redact'

/** What a task notice says about the task's surroundings; names as they are now. */
export interface TaskContext {
  task: TaskRow
  job: { uuid: string; name: string } | null
  target: string | null
  store: string | null
  /** The daemon's URL, for a link to the task's page (router: /tasks/:uuid). */
  base: string | null
  now: number
  /** When the job started failing, for a reminder. */
  failingSince?: number
}

const WHAT: Record<TaskRow['op'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  verify: 'Verify',
  purge: 'Purge',
  gc: 'Garbage collection',
}

const SEVERITY: Record<NotifyEvent, Notice['severity']> = {
  'backup.started': 'info',
  'backup.failed': 'failure',
  'backup.succeeded': 'success',
  'backup.recovered': 'recovery',
  'restore.finished': 'success',
  'restore.failed': 'failure',
  'verify.damage': 'failure',
  'purge.failed': 'failure',
  'gc.failed': 'failure',
  'health.stale': 'warning',
  'health.shrunk': 'warning',
  'health.low-space': 'warning',
  'health.verify-overdue': 'warning',
}

/** 75_000 → "1 min 15 s". */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`
  const h = Math.floor(m / 60)
  return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`
}

function title(event: NotifyEvent, c: TaskContext, reminder: boolean): string {
  const of = c.job ? ` of ${c.job.name}` : c.target ? ` of ${c.target}` : ''
  switch (event) {
    case 'backup.started':
      return `Backup${of} started`
    case 'backup.succeeded':
      return `Backup${of} succeeded`
    case 'backup.recovered':
      return `Backup${of} works again`
    case 'backup.failed':
      return reminder ? `Backup${of} is still failing` : `Backup${of} failed`
    case 'restore.finished':
      return `Restore into ${c.target ?? 'a target'} finished`
    case 'restore.failed':
      return `Restore into ${c.target ?? 'a target'} failed`
    case 'verify.damage':
      return `Verify found damage in an archive${of}`
    case 'gc.failed':
      return `Garbage collection of store ${c.store ?? '?'} failed`
    default:
      return `${WHAT[c.task.op]}${of} failed`
  }
}

/** The notice for a task that started or ended. */
export function taskNotice(event: NotifyEvent, c: TaskContext, reminder = false): Notice {
  const { task } = c
  const duration =
    task.started_at !== null && task.stopped_at !== null ? task.stopped_at - task.started_at : null
  const error = task.error ? redactor.redact(task.error) : null
  const url = c.base ? `${c.base}/#/tasks/${task.uuid}` : null
  const lines: string[] = []
  if (c.job) lines.push(`Job: ${c.job.name}`)
  if (c.target) lines.push(`Target: ${c.target}`)
  if (c.store) lines.push(`Store: ${c.store}`)
  if (error) lines.push(`Error: ${error}`)
  if (duration !== null && event !== 'backup.started')
    lines.push(`Took: ${humanDuration(duration)}`)
  if (reminder && c.failingSince !== undefined) {
    lines.push(`Failing since: ${toIso(c.failingSince)} (${humanDuration(c.now - c.failingSince)})`)
  }
  if (url) lines.push(`Task: ${url}`)
  return {
    event,
    severity: SEVERITY[event],
    title: title(event, c, reminder),
    body: lines.join('\n'),
    at: toIso(c.now),
    ...(c.job ? { job: c.job } : {}),
    task: { uuid: task.uuid, url },
    url,
    fields: {
      op: task.op,
      status: task.status,
      job: c.job?.name ?? null,
      target: c.target,
      store: c.store,
      error,
      duration_ms: duration,
      bytes: task.bytes,
      archive_uuid: task.archive_uuid,
      reminder: reminder ? 'yes' : null,
    },
  }
}

/** The notice for a health signal raised. */
export function healthNotice(
  event: NotifyEvent,
  signal: HealthSignal,
  job: { uuid: string; name: string } | null,
  base: string | null,
  now: number,
): Notice {
  const url = base ? `${base}/#/` : null
  const lines = [redactor.redact(signal.message), `Since: ${signal.since}`]
  if (url) lines.push(`Dashboard: ${url}`)
  const fields: Notice['fields'] = {
    signal: signal.signal,
    subject: signal.subject.name,
    subject_kind: signal.subject.kind,
  }
  for (const [k, v] of Object.entries(signal.details)) fields[k] = v
  return {
    event,
    severity: signal.severity,
    title: `${signal.subject.kind === 'store' ? 'Store' : signal.subject.kind === 'job' ? 'Job' : 'Archive'} ${signal.subject.name}: ${healthTitle(signal)}`,
    body: lines.join('\n'),
    at: toIso(now),
    ...(job ? { job } : {}),
    url,
    fields,
  }
}

function healthTitle(signal: HealthSignal): string {
  switch (signal.signal) {
    case 'stale':
      return 'no recent valid backup'
    case 'shrunk':
      return 'the newest archive is much smaller than the ones before'
    case 'low-space':
      return 'running out of space'
    case 'verify-overdue':
      return 'verify overdue'
    case 'invalid':
      return 'damaged'
  }
}
