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
import { fmtDate, shortUuid } from '../format'
import { label, resolveRef } from '../refs'
import { owner, ownerFlag } from './common'
import { FOLLOW_DETAILS, followFlag, followTask } from './follow'
import { custom, defineNoun, list } from './noun'
import { printTask, progress } from './task-view'

type StatusFilter = NonNullable<TasksFilter['status']>

/** `active` is pending or running, the default; `all` is every status. */
const STATUS_VALUES: readonly StatusFilter[] = [...TASK_STATUSES, 'active', 'all']

/** --status, or --all, or the default: pending and running. */
function statusOf(ctx: Context): StatusFilter {
  const given = ctx.flags.choice<StatusFilter>('status')
  if (given !== undefined && ctx.flags.has('all')) {
    throw new UsageError('--all and --status cannot be used together', ctx.command)
  }
  return given ?? (ctx.flags.has('all') ? 'all' : 'active')
}

function subject(t: Task, jobs: Map<string, Job>): string {
  if (t.job_uuid) return jobs.get(t.job_uuid)?.name ?? shortUuid(t.job_uuid)
  if (t.archive_uuid) return `archive ${shortUuid(t.archive_uuid)}`
  if (t.store_uuid) return `store ${shortUuid(t.store_uuid)}`
  return '-'
}

/** What an empty list says, by the filter it had. */
function noTasks(ctx: Context): string {
  const status = statusOf(ctx)
  const type = ctx.flags.str('type')
  const kind = type ? `${type} tasks` : 'tasks'
  if (status === 'active') return `no pending or running ${kind} (see all: --all)`
  return status === 'all' ? `no ${kind}` : `no ${status} ${kind}`
}

export const taskCommands: Command[] = defineNoun({
  noun: 'task',
  ref: 'UUID',
  refs: (c) => c.listTasks({ status: 'all' }),
  verbs: [
    list({
      summary: 'list tasks, newest first: pending and running ones unless --all or --status',
      synopsis: '[--all | --status STATUS] [--type TYPE] [--job REF] [--limit N]',
      flags: [
        { name: 'all', help: 'tasks in every status, finished ones too' },
        {
          name: 'status',
          value: 'STATUS',
          choices: STATUS_VALUES,
          help: `one of ${STATUS_VALUES.join(', ')} (active: pending or running, the default)`,
        },
        {
          name: 'type',
          value: 'TYPE',
          choices: TASK_OPS,
          help: `only tasks of this type: ${TASK_OPS.join(', ')}`,
        },
        { name: 'job', value: 'REF', help: 'only tasks of this job' },
        { name: 'limit', value: 'N', type: 'int', min: 1, help: 'at most N tasks' },
      ],
      async fetch(ctx) {
        const status = statusOf(ctx)
        const type = ctx.flags.choice<TaskOp>('type')
        const limit = ctx.flags.int('limit')
        const jobRef = ctx.flags.str('job')
        const job =
          jobRef === undefined
            ? undefined
            : (await resolveRef('job', jobRef, () => ctx.client.listJobs())).uuid
        return ctx.client.listTasks({ status, type, job, limit })
      },
      /** The jobs' names, for the JOB column. */
      async extra(ctx, tasks) {
        const jobs = new Map<string, Job>()
        if (tasks.some((t) => t.job_uuid)) {
          for (const j of await ctx.client.listJobs()) jobs.set(j.uuid, j)
        }
        return jobs
      },
      columns: [
        ['UUID', (t) => shortUuid(t.uuid)],
        ['TYPE', (t) => t.type],
        ['STATUS', (t) => `${t.status}${progress(t)}`],
        ['OWNER', (t) => t.owner],
        ['JOB', subject],
        ['REQUESTED', (t) => fmtDate(t.requested_at)],
        ['STARTED', (t) => fmtDate(t.started_at)],
        ['STOPPED', (t) => fmtDate(t.stopped_at)],
      ],
      empty: noTasks,
    }),
    custom((n) => ({
      verb: 'show',
      args: [n.ref],
      summary: 'show one task and its log (--follow: live, until it ends)',
      flags: [followFlag],
      details: FOLLOW_DETAILS,
      async run(ctx) {
        if (ctx.flags.has('follow')) return followTask(ctx, async () => (await n.resolve(ctx)).uuid)
        const t = await ctx.client.getTask((await n.resolve(ctx)).uuid)
        if (ctx.json) return ctx.out.json(t)
        await printTask(ctx, t)
      },
    })),
    custom((n) => ({
      verb: 'cancel',
      args: [n.ref],
      summary: 'cancel a pending or running task',
      flags: [ownerFlag],
      details:
        'A pending task is canceled at once. A running one is asked to stop: it ends canceled\n' +
        'a moment later, and nothing it made is kept. Watch it with:  bulwark show task UUID --follow\n' +
        "The task's log says who canceled it (--owner, else your user name).",
      async run(ctx) {
        const ref = await n.resolve(ctx)
        const who = owner(ctx)
        const res = await ctx.client.cancelTask(ref.uuid, who ? { owner: who } : {})
        if (ctx.json) return ctx.out.json(res)
        if (res.ok === 'stopping') {
          ctx.out.line(`canceling task ${label(ref)}: it was running and ends canceled in a moment`)
        } else {
          ctx.out.line(`canceled task ${label(ref)}`)
        }
      },
    })),
  ],
})
