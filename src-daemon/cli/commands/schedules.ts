// bulwark list|show|create|edit|delete schedule, and preview schedule.
import type { ScheduleInput } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command } from '../command'
import { fmtDate, shortUuid, truncate } from '../format'
import { nameFlag, summaryFlag, unusedFilter, usageFlags } from './common'
import { action, create, custom, defineNoun, edit, list, show } from './noun'

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

const weekday = (iso: string) => new Date(iso).toLocaleDateString('en-US', { weekday: 'short' })

export const scheduleCommands: Command[] = defineNoun({
  noun: 'schedule',
  refs: (c) => c.listSchedules(),
  verbs: [
    list({
      summary: 'list schedules',
      synopsis: '[--used|--unused]',
      flags: usageFlags,
      fetch: (ctx) => ctx.client.listSchedules({ unused: unusedFilter(ctx) }),
      columns: [
        ['UUID', (s) => shortUuid(s.uuid)],
        ['NAME', (s) => s.name],
        ['WHEN', (s) => s.when],
        ['TIMEZONE', (s) => s.timezone],
        ['NEXT RUN', (s) => fmtDate(s.next_run)],
        ['SUMMARY', (s) => truncate(s.summary, 40)],
      ],
      empty: 'no schedules',
    }),
    show({
      summary: 'show one schedule and its next run',
      get: (c, uuid) => c.getSchedule(uuid),
      fields: [
        ['UUID', (s) => s.uuid],
        ['Name', (s) => s.name],
        ['Summary', (s) => s.summary],
        ['When', (s) => s.when],
        ['Means', (s) => s.description],
        ['Timezone', (s) => s.timezone],
        ['Next run', (s) => fmtDate(s.next_run)],
      ],
    }),
    create({
      summary: 'create a schedule',
      flags: [nameFlag('schedule', true), whenFlag(true), timezoneFlag, summaryFlag('schedule')],
      details: 'Try a timespec first with:  bulwark preview schedule --when "daily 4am"',
      body(ctx) {
        const body: ScheduleInput = {
          name: ctx.flags.str('name') ?? '',
          when: ctx.flags.str('when') ?? '',
        }
        const timezone = ctx.flags.str('timezone')
        if (timezone !== undefined) body.timezone = timezone
        const summary = ctx.flags.str('summary')
        if (summary !== undefined) body.summary = summary
        return body
      },
      call: (c, body) => c.createSchedule(body),
    }),
    edit({
      summary: 'change a schedule; unset fields keep their values',
      flags: [nameFlag('schedule', false), whenFlag(false), timezoneFlag, summaryFlag('schedule')],
      load: (ctx, ref) => ctx.client.getSchedule(ref.uuid),
      body: (ctx, cur) => ({
        name: ctx.flags.str('name') ?? cur.name,
        summary: ctx.flags.str('summary') ?? cur.summary,
        when: ctx.flags.str('when') ?? cur.when,
        timezone: ctx.flags.str('timezone') ?? cur.timezone,
      }),
      call: (ctx, uuid, body) => ctx.client.updateSchedule(uuid, body),
    }),
    action({
      verb: 'delete',
      summary: 'delete a schedule (refused while a job uses it)',
      call: (c, uuid) => c.deleteSchedule(uuid),
    }),
    custom(() => ({
      verb: 'preview',
      summary: 'show what a timespec means and when it would run next, without saving it',
      flags: [
        whenFlag(true),
        timezoneFlag,
        {
          name: 'count',
          value: 'N',
          type: 'int',
          min: 1,
          max: 100,
          help: 'how many upcoming runs to show (default 5, at most 100)',
        },
        { name: 'from', value: 'ISO-TIME', help: 'list runs after this time instead of now' },
      ],
      async run(ctx) {
        const res = await ctx.client.previewSchedule({
          when: ctx.flags.str('when') ?? '',
          timezone: ctx.flags.str('timezone'),
          count: ctx.flags.int('count') ?? 5,
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
    })),
  ],
})
