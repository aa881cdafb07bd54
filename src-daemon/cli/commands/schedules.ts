// bulwark list|show|create|edit|delete schedule, and preview schedule.
import type { ScheduleInput } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { fmtDate, parseInteger, shortUuid, truncate } from '../format'
import { resolveRef } from '../refs'
import {
  REF_ARG,
  nameFlag,
  printCreated,
  printDone,
  requireSomeFlag,
  summaryFlag,
  unusedFilter,
  usageFlags,
} from './common'

const whenFlag = (required: boolean): FlagSpec => ({
  name: 'when',
  value: 'TIMESPEC',
  required,
  help: 'when to run: "daily 4am", "sundays 8am", "every 4 hours from 12:15am", or cron "0 4 * * *"',
})
const timezoneFlag: FlagSpec = {
  name: 'timezone',
  value: 'ZONE',
  help: "IANA time zone, like Europe/Berlin (default: the daemon's)",
}

const resolve = (ctx: Context) =>
  resolveRef('schedule', ctx.args[0] ?? '', () => ctx.client.listSchedules())

const weekday = (iso: string) => new Date(iso).toLocaleDateString('en-US', { weekday: 'short' })

export const scheduleCommands: Command[] = [
  {
    verb: 'list',
    noun: 'schedule',
    summary: 'list schedules',
    synopsis: '[--used|--unused]',
    flags: usageFlags,
    async run(ctx) {
      const items = await ctx.client.listSchedules({ unused: unusedFilter(ctx) })
      if (ctx.json) return ctx.out.json(items)
      ctx.out.table(
        ['UUID', 'NAME', 'WHEN', 'TIMEZONE', 'NEXT RUN', 'SUMMARY'],
        items.map((s) => [
          shortUuid(s.uuid),
          s.name,
          s.when,
          s.timezone,
          fmtDate(s.next_run),
          truncate(s.summary, 40),
        ]),
        'no schedules',
      )
    },
  },
  {
    verb: 'show',
    noun: 'schedule',
    args: [REF_ARG('schedule')],
    summary: 'show one schedule and its next run',
    async run(ctx) {
      const s = await ctx.client.getSchedule((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(s)
      ctx.out.pairs([
        ['UUID', s.uuid],
        ['Name', s.name],
        ['Summary', s.summary],
        ['When', s.when],
        ['Means', s.description],
        ['Timezone', s.timezone],
        ['Next run', fmtDate(s.next_run)],
      ])
    },
  },
  {
    verb: 'create',
    noun: 'schedule',
    summary: 'create a schedule',
    flags: [nameFlag('schedule', true), whenFlag(true), timezoneFlag, summaryFlag('schedule')],
    details: 'Try a timespec first with:  bulwark preview schedule --when "daily 4am"',
    async run(ctx) {
      const body: ScheduleInput = {
        name: ctx.flags.str('name') ?? '',
        when: ctx.flags.str('when') ?? '',
      }
      const timezone = ctx.flags.str('timezone')
      if (timezone !== undefined) body.timezone = timezone
      const summary = ctx.flags.str('summary')
      if (summary !== undefined) body.summary = summary
      printCreated(ctx, 'schedule', body.name, await ctx.client.createSchedule(body))
    },
  },
  {
    verb: 'edit',
    noun: 'schedule',
    args: [REF_ARG('schedule')],
    summary: 'change a schedule; unset fields keep their values',
    flags: [nameFlag('schedule', false), whenFlag(false), timezoneFlag, summaryFlag('schedule')],
    async run(ctx) {
      requireSomeFlag(ctx, ['name', 'when', 'timezone', 'summary'])
      const ref = await resolve(ctx)
      const cur = await ctx.client.getSchedule(ref.uuid)
      const body = {
        name: ctx.flags.str('name') ?? cur.name,
        summary: ctx.flags.str('summary') ?? cur.summary,
        when: ctx.flags.str('when') ?? cur.when,
        timezone: ctx.flags.str('timezone') ?? cur.timezone,
      }
      const res = await ctx.client.updateSchedule(ref.uuid, body)
      printDone(ctx, res, 'updated', 'schedule', { uuid: ref.uuid, name: body.name })
    },
  },
  {
    verb: 'delete',
    noun: 'schedule',
    args: [REF_ARG('schedule')],
    summary: 'delete a schedule (refused while a job uses it)',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.deleteSchedule(ref.uuid), 'deleted', 'schedule', ref)
    },
  },
  {
    verb: 'preview',
    noun: 'schedule',
    summary: 'show what a timespec means and when it would run next, without saving it',
    flags: [
      whenFlag(true),
      timezoneFlag,
      {
        name: 'count',
        value: 'N',
        help: 'how many upcoming runs to show (default 5, at most 100)',
      },
      { name: 'from', value: 'ISO-TIME', help: 'list runs after this time instead of now' },
    ],
    async run(ctx) {
      const count = ctx.flags.str('count')
      const res = await ctx.client.previewSchedule({
        when: ctx.flags.str('when') ?? '',
        timezone: ctx.flags.str('timezone'),
        count: count === undefined ? 5 : parseInteger(count, '--count', 1, 100),
        from: ctx.flags.str('from'),
      })
      if (ctx.json) return ctx.out.json(res)
      ctx.out.pairs([
        ['When', res.when],
        ['Means', res.description],
        ['Cron', res.cron],
        ['Timezone', res.timezone],
        ['Next runs', res.next.map((t) => `${fmtDate(t)}  ${weekday(t)}`).join('\n') || 'never'],
      ])
    },
  },
]
