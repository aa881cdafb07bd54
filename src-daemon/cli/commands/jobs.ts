// bulwark list|show|create|edit|delete job, and pause|unpause|paused|run job.
import type { Job, JobInput, JobUpdateInput } from '../../contract'
import { oneOf } from '../args'
import type { Command } from '../command'
import { EXIT_FAILED, EXIT_OK } from '../errors'
import { fmtDate, fmtDuration, shortUuid } from '../format'
import { nameFlag, owner, ownerFlag, summaryFlag } from './common'
import { FOLLOW_DETAILS, followFlag } from './follow'
import {
  partFlags,
  priorityFlag,
  resolveParts,
  rpo,
  rpoFlag,
  verifySchedule,
  verifyScheduleFlag,
} from './job-flags'
import { describeHooks, hookFlags, hooksFromFlags } from './job-hooks'
import { action, create, custom, defineNoun, edit, list, show, startTask } from './noun'

const HOOKS_DETAILS =
  'Hooks: see docs/hooks.md (what they get in their environment, what a failure does).'

const verifyLine = (j: Job) =>
  j.verify_schedule_uuid === null
    ? 'not scheduled'
    : `${j.verify_schedule_name}: ${j.verify_schedule} (${j.verify_timezone}, ${j.verify_schedule_uuid})`

export const jobCommands: Command[] = defineNoun({
  noun: 'job',
  refs: (c) => c.listJobs(),
  verbs: [
    list({
      summary: 'list jobs',
      synopsis:
        '[--paused|--unpaused] [--target REF] [--store REF] [--schedule REF] [--retention REF]',
      flags: [
        { name: 'paused', help: 'only paused jobs' },
        { name: 'unpaused', help: 'only jobs that run on schedule' },
        ...partFlags(false, 'only jobs using this'),
      ],
      async fetch(ctx) {
        const which = oneOf(ctx.flags, 'paused', 'unpaused', ctx.command)
        const parts = await resolveParts(ctx)
        const paused = which === undefined ? undefined : which === 'paused'
        return ctx.client.listJobs({ ...parts, paused })
      },
      columns: [
        ['UUID', (j) => shortUuid(j.uuid)],
        ['NAME', (j) => j.name],
        ['PAUSED', (j) => j.paused],
        ['TARGET', (j) => j.target_name],
        ['STORE', (j) => j.store_name],
        ['SCHEDULE', (j) => j.schedule_name],
        ['RETENTION', (j) => j.retention_name],
        ['NEXT RUN', (j) => (j.paused ? '-' : fmtDate(j.next_run))],
        ['LAST', (j) => j.last_status],
      ],
      empty: 'no jobs',
    }),
    show({
      summary: 'show one job',
      get: (c, uuid) => c.getJob(uuid),
      fields: [
        ['UUID', (j) => j.uuid],
        ['Name', (j) => j.name],
        ['Summary', (j) => j.summary],
        ['Paused', (j) => j.paused],
        ['Priority', (j) => j.priority],
        ['Target', (j) => `${j.target_name} (${j.target_plugin}, ${j.target_uuid})`],
        ['Store', (j) => `${j.store_name} (${j.store_plugin}, ${j.store_uuid})`],
        [
          'Schedule',
          (j) => `${j.schedule_name}: ${j.schedule} (${j.timezone}, ${j.schedule_uuid})`,
        ],
        ['Retention', (j) => `${j.retention_name}: ${fmtDuration(j.expiry)} (${j.retention_uuid})`],
        ['Next run', (j) => (j.paused ? 'paused' : fmtDate(j.next_run))],
        ['Verify', verifyLine],
        [
          'Next verify',
          (j) =>
            j.verify_schedule_uuid === null ? null : j.paused ? 'paused' : fmtDate(j.next_verify),
        ],
        ['Hooks', (j) => describeHooks(j.hooks)],
        [
          'Stale after',
          (j) =>
            j.rpo_seconds === null
              ? "twice the schedule's period"
              : `${fmtDuration(j.rpo_seconds)} (its RPO)`,
        ],
        ['Last run', (j) => fmtDate(j.last_run)],
        ['Last status', (j) => j.last_status],
      ],
    }),
    create({
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
      details: HOOKS_DETAILS,
      async body(ctx) {
        const prio = ctx.flags.int('priority')
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
        return body
      },
      call: (c, body) => c.createJob(body),
    }),
    edit({
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
      details: HOOKS_DETAILS,
      check(ctx) {
        oneOf(ctx.flags, 'paused', 'unpaused', ctx.command)
        ctx.flags.int('priority')
      },
      load: (ctx, ref) =>
        Promise.all([ctx.client.getJob(ref.uuid), resolveParts(ctx), verifySchedule(ctx)]),
      body(ctx, [cur, parts, verify]) {
        const body: JobUpdateInput = {
          name: ctx.flags.str('name') ?? cur.name,
          summary: ctx.flags.str('summary') ?? cur.summary,
          target: parts.target ?? cur.target_uuid,
          store: parts.store ?? cur.store_uuid,
          schedule: parts.schedule ?? cur.schedule_uuid,
          retention: parts.retention ?? cur.retention_uuid,
          priority: ctx.flags.int('priority') ?? cur.priority,
        }
        if (verify !== undefined) body.verify_schedule = verify
        const objective = rpo(ctx)
        if (objective !== undefined) body.rpo_seconds = objective
        const hooks = hooksFromFlags(ctx, cur.hooks)
        if (hooks !== undefined) body.hooks = hooks
        return body
      },
      async call(ctx, uuid, body) {
        const res = await ctx.client.updateJob(uuid, body)
        if (ctx.flags.has('paused')) await ctx.client.pauseJob(uuid)
        if (ctx.flags.has('unpaused')) await ctx.client.unpauseJob(uuid)
        return res
      },
    }),
    action({
      verb: 'delete',
      summary: 'delete a job (its archives stay until they expire)',
      call: (c, uuid) => c.deleteJob(uuid),
    }),
    action({
      verb: 'pause',
      summary: 'stop running a job on its schedule (ad hoc runs still work)',
      call: (c, uuid) => c.pauseJob(uuid),
    }),
    action({
      verb: 'unpause',
      summary: 'run a paused job on its schedule again',
      call: (c, uuid) => c.unpauseJob(uuid),
    }),
    custom((n) => ({
      verb: 'paused',
      args: [n.ref],
      summary: 'print yes or no; exit 0 if the job is paused, 1 if not',
      async run(ctx) {
        const j = await ctx.client.getJob((await n.resolve(ctx)).uuid)
        if (ctx.json) ctx.out.json({ uuid: j.uuid, name: j.name, paused: j.paused })
        else ctx.out.line(j.paused ? 'yes' : 'no')
        return j.paused ? EXIT_OK : EXIT_FAILED
      },
    })),
    startTask({
      verb: 'run',
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
      body(ctx) {
        const who = owner(ctx)
        return {
          ...(who ? { owner: who } : {}),
          ...(ctx.flags.has('full-read') ? { full_read: true } : {}),
        }
      },
      call: (c, uuid, body) => c.runJob(uuid, body),
    }),
  ],
})
