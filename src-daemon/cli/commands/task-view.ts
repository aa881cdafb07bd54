// How a task reads in the terminal: the `show task` block, its log lines, its
// status with progress, and the one line that says how it ended.
import type { Task, TaskStatus } from '../../contract'
import type { Context } from '../command'
import { fmtDate, fmtSize, fmtUptime } from '../format'

export const FINISHED: readonly TaskStatus[] = ['done', 'failed', 'canceled']
export const isFinished = (s: TaskStatus) => FINISHED.includes(s)

const percent = (p: number | null) => (p === null ? '' : ` (${Math.round(p * 100)}%)`)

export const progress = (t: Pick<Task, 'status' | 'progress'>) =>
  t.status === 'running' ? percent(t.progress) : ''

/** "running, 1.2 MiB (45%)": a status with what is known of its progress. */
export function statusText(t: Pick<Task, 'status' | 'bytes' | 'progress'>): string {
  const bytes = t.bytes > 0 ? `, ${fmtSize(t.bytes)}` : ''
  return `${t.status}${t.status === 'running' ? `${bytes}${percent(t.progress)}` : ''}`
}

/** Log text ("<ISO time> <line>\n" per line) indented under "Log:". */
export const indentLog = (text: string) => text.trimEnd().replace(/^/gm, '  ')

/** The `show task` block; with `logHeader` the "Log:" line is printed even for an empty log. */
export async function printTask(ctx: Context, t: Task, logHeader = false): Promise<void> {
  const job = t.job_uuid ? await ctx.client.getJob(t.job_uuid).catch(() => null) : null
  ctx.out.pairs([
    ['UUID', t.uuid],
    ['Type', t.type],
    ['Status', `${t.status}${progress(t)}`],
    ['Owner', t.owner],
    ['Job', t.job_uuid ? `${job?.name ?? '(deleted)'} (${t.job_uuid})` : null],
    ['Archive', t.archive_uuid],
    ['Target', t.target_uuid],
    ['Store', t.store_uuid],
    ['Priority', t.priority],
    ['Requested', fmtDate(t.requested_at, true)],
    ['Started', fmtDate(t.started_at, true)],
    ['Stopped', fmtDate(t.stopped_at, true)],
    ['Bytes', t.bytes ? `${fmtSize(t.bytes)} (${t.bytes})` : '0'],
    ...(t.error ? [['Error', t.error] as const] : []),
  ])
  const log = t.log.trimEnd()
  if (log) ctx.out.line(`\nLog:\n${indentLog(log)}`)
  else if (logHeader) ctx.out.line('\nLog:')
}

function took(t: Task): string {
  if (!t.started_at || !t.stopped_at) return ''
  const ms = Date.parse(t.stopped_at) - Date.parse(t.started_at)
  if (!Number.isFinite(ms) || ms < 0) return ''
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : fmtUptime(ms / 1000)
}

/** "Task UUID done in 0.4 s (14 B)", "Task UUID failed after 0.1 s: why". */
export function outcomeLine(t: Task): string {
  const time = took(t)
  if (t.status === 'done') {
    return `Task ${t.uuid} done${time ? ` in ${time}` : ''} (${fmtSize(t.bytes)})`
  }
  const after = time ? ` after ${time}` : ''
  if (t.status === 'failed') return `Task ${t.uuid} failed${after}: ${t.error ?? 'see its log'}`
  if (t.status === 'canceled') return `Task ${t.uuid} canceled${after}`
  return `Task ${t.uuid} is ${statusText(t)}`
}
