// bulwark list|show|cancel task.
import { TASK_STATUSES, type Job, type Task, type TaskStatus } from '../../contract'
import type { Command, Context } from '../command'
import { UsageError } from '../errors'
import { fmtDate, fmtSize, parseInteger, shortUuid } from '../format'
import { resolveRef } from '../refs'
import { UUID_ARG, printDone } from './common'

const resolve = (ctx: Context) =>
  resolveRef('task', ctx.args[0] ?? '', () => ctx.client.listTasks({ status: 'all' }))

const STATUS_VALUES = [...TASK_STATUSES, 'all'] as const

function statusFlag(ctx: Context): TaskStatus | 'all' | undefined {
  const s = ctx.flags.str('status')
  if (s === undefined) return undefined
  if (!(STATUS_VALUES as readonly string[]).includes(s)) {
    throw new UsageError(
      `--status must be one of ${STATUS_VALUES.join(', ')} (got "${s}")`,
      ctx.command,
    )
  }
  return s as TaskStatus | 'all'
}

const newestFirst = (a: Task, b: Task) => b.requested_at.localeCompare(a.requested_at)

function subject(t: Task, jobs: Map<string, Job>): string {
  if (t.job_uuid) return jobs.get(t.job_uuid)?.name ?? shortUuid(t.job_uuid)
  if (t.archive_uuid) return `archive ${shortUuid(t.archive_uuid)}`
  return '-'
}

const progress = (t: Task) =>
  t.status === 'running' && t.progress !== null ? ` (${Math.round(t.progress * 100)}%)` : ''

export const taskCommands: Command[] = [
  {
    verb: 'list',
    noun: 'task',
    summary: 'list tasks, newest first: pending and running ones unless --all or --status',
    synopsis: '[--all | --status STATUS] [--job REF] [--limit N]',
    flags: [
      { name: 'all', help: 'tasks in every status, finished ones too' },
      { name: 'status', value: 'STATUS', help: `one of ${STATUS_VALUES.join(', ')}` },
      { name: 'job', value: 'REF', help: 'only tasks of this job' },
      { name: 'limit', value: 'N', help: 'at most N tasks' },
    ],
    async run(ctx) {
      const status = statusFlag(ctx)
      if (status !== undefined && ctx.flags.has('all')) {
        throw new UsageError('--all and --status cannot be used together', ctx.command)
      }
      const limitText = ctx.flags.str('limit')
      const limit = limitText === undefined ? undefined : parseInteger(limitText, '--limit', 1)
      const jobRef = ctx.flags.str('job')
      const job =
        jobRef === undefined
          ? undefined
          : (await resolveRef('job', jobRef, () => ctx.client.listJobs())).uuid
      const query = (s: TaskStatus | 'all') => ctx.client.listTasks({ status: s, job, limit })
      const statuses: (TaskStatus | 'all')[] =
        status !== undefined ? [status] : ctx.flags.has('all') ? ['all'] : ['pending', 'running']
      let tasks = (await Promise.all(statuses.map(query))).flat().sort(newestFirst)
      if (limit !== undefined) tasks = tasks.slice(0, limit)
      if (ctx.json) return ctx.out.json(tasks)
      const jobs = new Map<string, Job>()
      if (tasks.some((t) => t.job_uuid)) {
        for (const j of await ctx.client.listJobs()) jobs.set(j.uuid, j)
      }
      const empty =
        statuses[0] === 'pending' ? 'no pending or running tasks (see all: --all)' : 'no tasks'
      ctx.out.table(
        ['UUID', 'TYPE', 'STATUS', 'OWNER', 'JOB', 'REQUESTED', 'STARTED', 'STOPPED'],
        tasks.map((t) => [
          shortUuid(t.uuid),
          t.type,
          `${t.status}${progress(t)}`,
          t.owner,
          subject(t, jobs),
          fmtDate(t.requested_at),
          fmtDate(t.started_at),
          fmtDate(t.stopped_at),
        ]),
        empty,
      )
    },
  },
  {
    verb: 'show',
    noun: 'task',
    args: [UUID_ARG('task')],
    summary: 'show one task and its log',
    async run(ctx) {
      const t = await ctx.client.getTask((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(t)
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
      if (log) ctx.out.line(`\nLog:\n${log.replace(/^/gm, '  ')}`)
    },
  },
  {
    verb: 'cancel',
    noun: 'task',
    args: [UUID_ARG('task')],
    summary: 'cancel a pending or running task',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.cancelTask(ref.uuid), 'canceled', 'task', ref)
    },
  },
]
