// bulwark list|show|create|edit|delete job, and pause|unpause|paused|run job.
import type { JobInput, JobUpdateInput } from '../../contract'
import type { FlagSpec } from '../args'
import { oneOf } from '../args'
import type { Command, Context } from '../command'
import { EXIT_FAILED, EXIT_OK } from '../errors'
import { fmtDate, fmtDuration, parseDuration, parseInteger, shortUuid } from '../format'
import { resolveRef } from '../refs'
import {
  REF_ARG,
  nameFlag,
  owner,
  ownerFlag,
  printCreated,
  printDone,
  requireSomeFlag,
  summaryFlag,
} from './common'
import { FOLLOW_DETAILS, followFlag, followTask } from './follow'
import { HOOK_FLAG_NAMES, describeHooks, hookFlags, hooksFromFlags } from './job-hooks'

const PARTS = ['target', 'store', 'schedule', 'retention'] as const
type Part = (typeof PARTS)[number]

const partFlags = (required: boolean, what: string): FlagSpec[] =>
  PARTS.map((p) => ({
    name: p,
    value: 'REF',
    required,
    aliases: p === 'retention' ? ['retention-policy', 'policy'] : [],
    help: `${what} ${p === 'retention' ? 'retention policy' : p} (uuid, prefix or name)`,
  }))

const priorityFlag: FlagSpec = {
  name: 'priority',
  value: 'N',
  help: '0 (first) to 100 (last) when tasks queue up (default 50)',
}

const resolve = (ctx: Context) => resolveRef('job', ctx.args[0] ?? '', () => ctx.client.listJobs())

/** Resolves the --target/--store/--schedule/--retention flags that were given, in parallel. */
async function resolveParts(ctx: Context): Promise<Partial<Record<Part, string>>> {
  const lists: Record<Part, () => Promise<{ uuid: string; name: string }[]>> = {
    target: () => ctx.client.listTargets(),
    store: () => ctx.client.listStores(),
    schedule: () => ctx.client.listSchedules(),
    retention: () => ctx.client.listRetention(),
  }
  const entries = await Promise.all(
    PARTS.filter((p) => ctx.flags.has(p)).map(async (p) => {
      const kind = p === 'retention' ? 'retention policy' : p
      const ref = await resolveRef(kind, ctx.flags.str(p) ?? '', lists[p])
      return [p, ref.uuid] as const
    }),
  )
  return Object.fromEntries(entries)
}

const verifyScheduleFlag: FlagSpec = {
  name: 'verify-schedule',
  value: 'REF',
  help: "also verify the job's newest valid archive on this schedule (uuid, prefix or name)",
}

const rpoFlag: FlagSpec = {
  name: 'rpo',
  value: 'DURATION',
  help: 'raise "stale" when the newest valid archive is older than this (like 26h, 2d); default: twice the schedule\'s period',
}

/** --rpo DURATION as seconds, --no-rpo as null, neither as undefined. */
function rpo(ctx: Context): number | null | undefined {
  const which = oneOf(ctx.flags, 'rpo', 'no-rpo', ctx.command)
  if (which === 'no-rpo') return null
  if (which !== 'rpo') return undefined
  return parseDuration(ctx.flags.str('rpo') ?? '', '--rpo')
}

/** --verify-schedule REF as a uuid, --no-verify-schedule as null, neither as undefined. */
async function verifySchedule(ctx: Context): Promise<string | null | undefined> {
  const which = oneOf(ctx.flags, 'verify-schedule', 'no-verify-schedule', ctx.command)
  if (which === 'no-verify-schedule') return null
  if (which === undefined) return undefined
  const ref = ctx.flags.str('verify-schedule') ?? ''
  return (await resolveRef('schedule', ref, () => ctx.client.listSchedules())).uuid
}

const priority = (ctx: Context) => {
  const text = ctx.flags.str('priority')
  return text === undefined ? undefined : parseInteger(text, '--priority', 0, 100)
}

export const jobCommands: Command[] = [
  {
    verb: 'list',
    noun: 'job',
    summary: 'list jobs',
    synopsis:
      '[--paused|--unpaused] [--target REF] [--store REF] [--schedule REF] [--retention REF]',
    flags: [
      { name: 'paused', help: 'only paused jobs' },
      { name: 'unpaused', help: 'only jobs that run on schedule' },
      ...partFlags(false, 'only jobs using this'),
    ],
    async run(ctx) {
      const which = oneOf(ctx.flags, 'paused', 'unpaused', ctx.command)
      const parts = await resolveParts(ctx)
      const jobs = await ctx.client.listJobs({
        ...parts,
        paused: which === undefined ? undefined : which === 'paused',
      })
      if (ctx.json) return ctx.out.json(jobs)
      ctx.out.table(
        ['UUID', 'NAME', 'PAUSED', 'TARGET', 'STORE', 'SCHEDULE', 'RETENTION', 'NEXT RUN', 'LAST'],
        jobs.map((j) => [
          shortUuid(j.uuid),
          j.name,
          j.paused,
          j.target_name,
          j.store_name,
          j.schedule_name,
          j.retention_name,
          j.paused ? '-' : fmtDate(j.next_run),
          j.last_status,
        ]),
        'no jobs',
      )
    },
  },
  {
    verb: 'show',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'show one job',
    async run(ctx) {
      const j = await ctx.client.getJob((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(j)
      ctx.out.pairs([
        ['UUID', j.uuid],
        ['Name', j.name],
        ['Summary', j.summary],
        ['Paused', j.paused],
        ['Priority', j.priority],
        ['Target', `${j.target_name} (${j.target_plugin}, ${j.target_uuid})`],
        ['Store', `${j.store_name} (${j.store_plugin}, ${j.store_uuid})`],
        ['Schedule', `${j.schedule_name}: ${j.schedule} (${j.timezone}, ${j.schedule_uuid})`],
        ['Retention', `${j.retention_name}: ${fmtDuration(j.expiry)} (${j.retention_uuid})`],
        ['Next run', j.paused ? 'paused' : fmtDate(j.next_run)],
        [
          'Verify',
          j.verify_schedule_uuid === null
            ? 'not scheduled'
            : `${j.verify_schedule_name}: ${j.verify_schedule} (${j.verify_timezone}, ${j.verify_schedule_uuid})`,
        ],
        [
          'Next verify',
          j.verify_schedule_uuid === null ? null : j.paused ? 'paused' : fmtDate(j.next_verify),
        ],
        ['Hooks', describeHooks(j.hooks)],
        [
          'Stale after',
          j.rpo_seconds === null
            ? "twice the schedule's period"
            : `${fmtDuration(j.rpo_seconds)} (its RPO)`,
        ],
        ['Last run', fmtDate(j.last_run)],
        ['Last status', j.last_status],
      ])
    },
  },
  {
    verb: 'create',
    noun: 'job',
    summary: 'create a backup job: a target, a store, a schedule and a retention policy',
    synopsis:
      '--name NAME --target REF --store REF --schedule REF --retention REF [--verify-schedule REF] [--rpo DURATION] [--paused] [--priority N] [--summary TEXT] [--hook-before CMD]... [--hook-after CMD]... [--hook-on-failure CMD]... [--hook-timeout SECONDS] [--hooks-file FILE]',
    flags: [
      nameFlag('job', true),
      ...partFlags(true, 'the'),
      verifyScheduleFlag,
      rpoFlag,
      { name: 'paused', help: 'create it paused (it will not run on schedule)' },
      priorityFlag,
      summaryFlag('job'),
      ...hookFlags(false),
    ],
    details: 'Hooks: see docs/hooks.md (what they get in their environment, what a failure does).',
    async run(ctx) {
      const prio = priority(ctx)
      const hooks = hooksFromFlags(ctx)
      const [parts, verify] = await Promise.all([resolveParts(ctx), verifySchedule(ctx)])
      const body: JobInput = {
        name: ctx.flags.str('name') ?? '',
        target: parts.target ?? '',
        store: parts.store ?? '',
        schedule: parts.schedule ?? '',
        retention: parts.retention ?? '',
        paused: ctx.flags.has('paused'),
      }
      if (prio !== undefined) body.priority = prio
      if (verify) body.verify_schedule = verify
      const objective = rpo(ctx)
      if (objective != null) body.rpo_seconds = objective
      if (hooks) body.hooks = hooks
      const summary = ctx.flags.str('summary')
      if (summary !== undefined) body.summary = summary
      printCreated(ctx, 'job', body.name, await ctx.client.createJob(body))
    },
  },
  {
    verb: 'edit',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'change a job; unset fields keep their values',
    flags: [
      nameFlag('job', false),
      summaryFlag('job'),
      ...partFlags(false, 'use this'),
      verifyScheduleFlag,
      { name: 'no-verify-schedule', help: 'stop verifying it on a schedule' },
      rpoFlag,
      { name: 'no-rpo', help: 'go back to "stale" after twice the schedule\'s period' },
      priorityFlag,
      { name: 'paused', help: 'also pause it' },
      { name: 'unpaused', help: 'also unpause it' },
      ...hookFlags(true),
    ],
    details: 'Hooks: see docs/hooks.md (what they get in their environment, what a failure does).',
    async run(ctx) {
      requireSomeFlag(ctx, [
        'name',
        'summary',
        ...PARTS,
        'verify-schedule',
        'no-verify-schedule',
        'rpo',
        'no-rpo',
        'priority',
        'paused',
        'unpaused',
        ...HOOK_FLAG_NAMES,
      ])
      const pause = oneOf(ctx.flags, 'paused', 'unpaused', ctx.command)
      const prio = priority(ctx)
      const ref = await resolve(ctx)
      const [cur, parts, verify] = await Promise.all([
        ctx.client.getJob(ref.uuid),
        resolveParts(ctx),
        verifySchedule(ctx),
      ])
      const body: JobUpdateInput = {
        name: ctx.flags.str('name') ?? cur.name,
        summary: ctx.flags.str('summary') ?? cur.summary,
        target: parts.target ?? cur.target_uuid,
        store: parts.store ?? cur.store_uuid,
        schedule: parts.schedule ?? cur.schedule_uuid,
        retention: parts.retention ?? cur.retention_uuid,
        priority: prio ?? cur.priority,
      }
      if (verify !== undefined) body.verify_schedule = verify
      const objective = rpo(ctx)
      if (objective !== undefined) body.rpo_seconds = objective
      const hooks = hooksFromFlags(ctx, cur.hooks)
      if (hooks !== undefined) body.hooks = hooks
      const res = await ctx.client.updateJob(ref.uuid, body)
      if (pause === 'paused') await ctx.client.pauseJob(ref.uuid)
      if (pause === 'unpaused') await ctx.client.unpauseJob(ref.uuid)
      printDone(ctx, res, 'updated', 'job', { uuid: ref.uuid, name: body.name })
    },
  },
  {
    verb: 'delete',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'delete a job (its archives stay until they expire)',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.deleteJob(ref.uuid), 'deleted', 'job', ref)
    },
  },
  {
    verb: 'pause',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'stop running a job on its schedule (ad hoc runs still work)',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.pauseJob(ref.uuid), 'paused', 'job', ref)
    },
  },
  {
    verb: 'unpause',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'run a paused job on its schedule again',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.unpauseJob(ref.uuid), 'unpaused', 'job', ref)
    },
  },
  {
    verb: 'paused',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'print yes or no; exit 0 if the job is paused, 1 if not',
    async run(ctx) {
      const j = await ctx.client.getJob((await resolve(ctx)).uuid)
      if (ctx.json) ctx.out.json({ uuid: j.uuid, name: j.name, paused: j.paused })
      else ctx.out.line(j.paused ? 'yes' : 'no')
      return j.paused ? EXIT_OK : EXIT_FAILED
    },
  },
  {
    verb: 'run',
    noun: 'job',
    args: [REF_ARG('job')],
    summary: 'back up now: schedule an ad hoc run and print its task uuid (or --follow it)',
    flags: [
      ownerFlag,
      followFlag,
      {
        name: 'full-read',
        help: 'for a directory: read every file, even those unchanged since the last backup',
      },
    ],
    details: `Follow the task later with:  bulwark show task TASK_UUID --follow\n\n${FOLLOW_DETAILS}`,
    async run(ctx) {
      const ref = await resolve(ctx)
      const who = owner(ctx)
      const opts = {
        ...(who ? { owner: who } : {}),
        ...(ctx.flags.has('full-read') ? { full_read: true } : {}),
      }
      const run = () => ctx.client.runJob(ref.uuid, opts)
      if (ctx.flags.has('follow')) return followTask(ctx, async () => (await run()).task_uuid)
      const res = await run()
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(res.task_uuid)
    },
  },
]
