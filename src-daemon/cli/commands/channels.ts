// bulwark list|show|create|edit|delete|test channel, and channel kinds:
// notification channels. Their flags (settings typed by the kind's fields,
// secrets from stdin or the terminal, the rules of what is sent) are in
// channel-flags.ts.
import type { Channel, ChannelCreateInput } from '../../contract'
import type { Command } from '../command'
import { UsageError } from '../errors'
import { fmtDate, shortUuid, truncate } from '../format'
import { formatPairs } from '../output'
import {
  EVENTS_DETAILS,
  checkChannelFlags,
  kindFlag,
  kindInfo,
  parseEvents,
  parseJobs,
  ruleFlags,
  settingsFor,
} from './channel-flags'
import { nameFlag } from './common'
import { action, create, custom, defineNoun, edit, list, show, test } from './noun'

const deliveryText = (c: Channel) =>
  c.last_delivery
    ? `${c.last_delivery.ok ? 'ok' : 'FAILED'} ${fmtDate(c.last_delivery.at)}`
    : 'never'

/** The last delivery in full, for show. */
function lastDelivery(c: Channel): string {
  const last = c.last_delivery
  if (!last) return 'never'
  const when = `${last.ok ? 'ok' : 'FAILED'} ${fmtDate(last.at, true)}`
  return `${when} (${last.event}, ${last.attempts} attempt(s)): ${last.detail}`
}

function settingsText(c: Channel): string {
  const settings = Object.entries(c.settings).map(
    ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const,
  )
  return settings.length ? formatPairs(settings).trimEnd() : '-'
}

export const channelCommands: Command[] = defineNoun({
  noun: 'channel',
  refs: (c) => c.listChannels(),
  verbs: [
    list({
      summary: 'list notification channels and how their last delivery went',
      fetch: (ctx) => ctx.client.listChannels(),
      columns: [
        ['UUID', (c) => shortUuid(c.uuid)],
        ['NAME', (c) => c.name],
        ['KIND', (c) => c.kind],
        ['ENABLED', (c) => (c.enabled ? 'yes' : 'no')],
        ['JOBS', (c) => (c.jobs === null ? 'all' : String(c.jobs.length))],
        ['LAST DELIVERY', deliveryText],
        ['EVENTS', (c) => truncate(c.events.join(','), 60)],
      ],
      empty: 'no channels',
    }),
    show({
      summary:
        'show one channel, its rules and its last delivery (secrets are shown as <redacted>)',
      get: (client, uuid) => client.getChannel(uuid),
      /** The names of the jobs it is limited to. */
      async extra(ctx, c) {
        const jobs = c.jobs === null ? null : await ctx.client.listJobs()
        return (c.jobs ?? []).map((u) => jobs?.find((j) => j.uuid === u)?.name ?? u)
      },
      fields: [
        ['UUID', (c) => c.uuid],
        ['Name', (c) => c.name],
        ['Kind', (c) => c.kind],
        ['Enabled', (c) => (c.enabled ? 'yes' : 'no')],
        ['Events', (c) => c.events.join(', ') || 'none'],
        ['Jobs', (c, jobNames) => (c.jobs === null ? 'all' : jobNames.join(', ') || 'none')],
        ['Reminder', (c) => (c.reminder_hours === 0 ? 'never' : `after ${c.reminder_hours} h`)],
        ['Settings', settingsText],
        ['Last delivery', lastDelivery],
      ],
    }),
    create({
      summary: 'create a notification channel',
      flags: [nameFlag('channel', true), kindFlag(true), ...ruleFlags],
      details: EVENTS_DETAILS,
      async body(ctx) {
        checkChannelFlags(ctx)
        const name = ctx.flags.str('name') ?? ''
        const info = await kindInfo(ctx, ctx.flags.str('kind') ?? '')
        const body: ChannelCreateInput = {
          name,
          kind: info.kind,
          settings: await settingsFor(ctx, info, {}),
        }
        const events = parseEvents(ctx)
        if (events) body.events = events
        const jobs = await parseJobs(ctx)
        if (jobs !== undefined) body.jobs = jobs
        const reminder = ctx.flags.int('reminder-hours')
        if (reminder !== undefined) body.reminder_hours = reminder
        return body
      },
      call: (client, body) => client.createChannel(body),
    }),
    edit({
      summary: 'change a channel; unset fields keep their values, secrets included',
      flags: [
        nameFlag('channel', false),
        ...ruleFlags,
        { name: 'enable', help: 'send through it again' },
        { name: 'disable', help: 'stop sending through it (it is kept)' },
      ],
      details: EVENTS_DETAILS,
      check(ctx) {
        checkChannelFlags(ctx)
        if (ctx.flags.has('enable') && ctx.flags.has('disable')) {
          throw new UsageError('--enable and --disable cannot be used together', ctx.command)
        }
      },
      async load(ctx, ref) {
        const cur = await ctx.client.getChannel(ref.uuid)
        return { cur, info: await kindInfo(ctx, cur.kind), jobs: await parseJobs(ctx) }
      },
      body: async (ctx, { cur, info, jobs }): Promise<ChannelCreateInput> => ({
        name: ctx.flags.str('name') ?? cur.name,
        kind: cur.kind,
        // Secrets read back as <redacted>, which keeps them.
        settings: await settingsFor(ctx, info, cur.settings),
        events: parseEvents(ctx) ?? cur.events,
        jobs: jobs === undefined ? cur.jobs : jobs,
        reminder_hours: ctx.flags.int('reminder-hours') ?? cur.reminder_hours,
        enabled: ctx.flags.has('enable') ? true : ctx.flags.has('disable') ? false : cur.enabled,
      }),
      call: (ctx, uuid, body) => ctx.client.updateChannel(uuid, body),
    }),
    action({
      verb: 'delete',
      summary: 'delete a channel and its secrets',
      call: (client, uuid) => client.deleteChannel(uuid),
    }),
    test({
      summary: 'send a test notice through a channel: print OK or FAILED, exit 0 or 1',
      details:
        'The daemon sends one test notice with the stored settings (secrets included) and records\n' +
        'the delivery, so "bulwark show channel" shows it too. With --json: {"at","event","ok","attempts","detail"}.',
      call: (client, uuid) => client.testChannel(uuid),
      message: (res) => res.detail,
    }),
    custom(() => ({
      verb: 'kinds',
      nounFirst: true,
      args: [{ name: 'KIND', help: 'show the settings of this kind', optional: true }],
      summary: 'list the kinds of channel, or the settings of one',
      async run(ctx) {
        const kinds = await ctx.client.listChannelKinds()
        const wanted = ctx.args[0]
        if (wanted === undefined) {
          if (ctx.json) return ctx.out.json(kinds)
          return ctx.out.table(
            ['KIND', 'TITLE', 'SUMMARY'],
            kinds.map((k) => [k.kind, k.title, k.summary]),
            'no kinds',
          )
        }
        const info = await kindInfo(ctx, wanted)
        if (ctx.json) return ctx.out.json(info)
        ctx.out.line(`${info.title}: ${info.summary}`)
        ctx.out.table(
          ['SETTING', 'TYPE', 'REQUIRED', 'DEFAULT', 'HELP'],
          info.fields.map((f) => [
            f.name,
            f.secret ? `${f.type}, secret (--set-secret)` : f.type,
            f.required ? 'yes' : '',
            f.default === undefined ? '' : JSON.stringify(f.default),
            f.help ?? f.example ?? '',
          ]),
          'no settings',
        )
      },
    })),
  ],
})
