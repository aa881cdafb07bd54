// bulwark list|show|cancel task.
import {
  TASK_OPS,
  TASK_STATUSES,
  type Job,
  type Task,
  type TaskOp,
  type TasksFilter,
} from '../../contract'
import type { Command, Context } from '../command'
import { UsageError } from '../errors'
import { fmtDate, parseInteger, shortUuid } from '../format'
import { label, resolveRef } from '../refs'
import { UUID_ARG, owner, ownerFlag } from './common'
import { FOLLOW_DETAILS, followFlag, followTask } from './follow'
import { printTask, progress } from './task-view'

type StatusFilter = NonNullable<TasksFilter['status']>

const resolve = (ctx: Context) =>
  resolveRef('task', ctx.args[0] ?? '', () => ctx.client.listTasks({ status: 'all' }))

/** `active` is pending or running, the default; `all` is every status. */
const STATUS_VALUES: readonly StatusFilter[] = [...TASK_STATUSES, 'active', 'all']

function statusFlag(ctx: Context): StatusFilter | undefined {
  const s = ctx.flags.str('status')
  if (s === undefined) return undefined
  if (!(STATUS_VALUES as readonly string[]).includes(s)) {
    throw new UsageError(
      `--status must be one of ${STATUS_VALUES.join(', ')} (got "${s}")`,
      ctx.command,
    )
  }
  return s as StatusFilter
}

function typeFlag(ctx: Context): TaskOp | undefined {
  const t = ctx.flags.str('type')
  if (t === undefined) return undefined
  if (!(TASK_OPS as readonly string[]).includes(t)) {
    throw new UsageError(`--type must be one of ${TASK_OPS.join(', ')} (got "${t}")`, ctx.command)
  }
  return t as TaskOp
}

function subject(t: Task, jobs: Map<string, Job>): string {
  if (t.job_uuid) return jobs.get(t.job_uuid)?.name ?? shortUuid(t.job_uuid)
  if (t.archive_uuid) return `archive ${shortUuid(t.archive_uuid)}`
  if (t.store_uuid) return `store ${shortUuid(t.store_uuid)}`
  return '-'
}

export const taskCommands: Command[] = [
  {
    verb: 'list',
    noun: 'task',
    summary: 'list tasks, newest first: pending and running ones unless --all or --status',
    synopsis: '[--all | --status STATUS] [--type TYPE] [--job REF] [--limit N]',
    flags: [
      { name: 'all', help: 'tasks in every status, finished ones too' },
      {
        name: 'status',
        value: 'STATUS',
        help: `one of ${STATUS_VALUES.join(', ')} (active: pending or running, the default)`,
      },
      { name: 'type', value: 'TYPE', help: `only tasks of this type: ${TASK_OPS.join(', ')}` },
      { name: 'job', value: 'REF', help: 'only tasks of this job' },
      { name: 'limit', value: 'N', help: 'at most N tasks' },
    ],
    async run(ctx) {
      const given = statusFlag(ctx)
      if (given !== undefined && ctx.flags.has('all')) {
        throw new UsageError('--all and --status cannot be used together', ctx.command)
      }
      const status = given ?? (ctx.flags.has('all') ? 'all' : 'active')
      const type = typeFlag(ctx)
      const limitText = ctx.flags.str('limit')
      const limit = limitText === undefined ? undefined : parseInteger(limitText, '--limit', 1)
      const jobRef = ctx.flags.str('job')
      const job =
        jobRef === undefined
          ? undefined
          : (await resolveRef('job', jobRef, () => ctx.client.listJobs())).uuid
      const tasks = await ctx.client.listTasks({ status, type, job, limit })
      if (ctx.json) return ctx.out.json(tasks)
      const jobs = new Map<string, Job>()
      if (tasks.some((t) => t.job_uuid)) {
        for (const j of await ctx.client.listJobs()) jobs.set(j.uuid, j)
      }
      const kind = type ? `${type} tasks` : 'tasks'
      const empty =
        status === 'active'
          ? `no pending or running ${kind} (see all: --all)`
          : status === 'all'
            ? `no ${kind}`
            : `no ${status} ${kind}`
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
    summary: 'show one task and its log (--follow: live, until it ends)',
    flags: [followFlag],
    details: FOLLOW_DETAILS,
    async run(ctx) {
      if (ctx.flags.has('follow')) return followTask(ctx, async () => (await resolve(ctx)).uuid)
      const t = await ctx.client.getTask((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(t)
      await printTask(ctx, t)
    },
  },
  {
    verb: 'cancel',
    noun: 'task',
    args: [UUID_ARG('task')],
    summary: 'cancel a pending or running task',
    flags: [ownerFlag],
    details:
      'A pending task is canceled at once. A running one is asked to stop: it ends canceled\n' +
      'a moment later, and nothing it made is kept. Watch it with:  bulwark show task UUID --follow\n' +
      "The task's log says who canceled it (--owner, else your user name).",
    async run(ctx) {
      const ref = await resolve(ctx)
      const who = owner(ctx)
      const res = await ctx.client.cancelTask(ref.uuid, who ? { owner: who } : {})
      if (ctx.json) return ctx.out.json(res)
      if (res.ok === 'stopping') {
        ctx.out.line(`canceling task ${label(ref)}: it was running and ends canceled in a moment`)
      } else {
        ctx.out.line(`canceled task ${label(ref)}`)
      }
    },
  },
]
