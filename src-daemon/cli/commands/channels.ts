// bulwark list|show|create|edit|delete|test channel, and channel kinds:
// notification channels. Settings are typed by the kind's fields as a
// plugin's endpoint is (--set), and secret settings (a webhook URL with its
// token, a bot token) are read from stdin or the terminal (--set-secret),
// never taken from argv.
import type { Channel, ChannelCreateInput, ChannelKindInfo, NotifyEvent } from '../../contract'
import { NOTIFY_EVENTS, type PluginInfo } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { applySets, splitSet } from '../endpoint'
import { EXIT_FAILED, EXIT_OK, UsageError, didYouMean } from '../errors'
import { fmtDate, parseInteger, shortUuid, truncate } from '../format'
import { formatPairs } from '../output'
import { resolveRef } from '../refs'
import { checkSetSecretFlags, readSetSecrets, setSecretFlag } from '../secrets'
import { REF_ARG, nameFlag, printCreated, printDone, requireSomeFlag } from './common'

const resolve = (ctx: Context) =>
  resolveRef('channel', ctx.args[0] ?? '', () => ctx.client.listChannels())

const kindFlag = (required: boolean): FlagSpec => ({
  name: 'kind',
  value: 'KIND',
  required,
  help: 'webhook, slack, discord, teams, ntfy, gotify, telegram, email or healthchecks (see: bulwark channel kinds)',
})

const ruleFlags: FlagSpec[] = [
  {
    name: 'set',
    value: 'KEY=VALUE',
    multi: true,
    help: "set one setting, typed by the kind's fields (bulwark channel kinds KIND)",
  },
  {
    ...setSecretFlag,
    help:
      'set the secret setting NAME (like webhook_url or token) from one line of stdin, or asked ' +
      'on the terminal without echo; repeat for several, read one line each, in order',
  },
  {
    name: 'events',
    value: 'E1,E2',
    help: 'what to send (default: failures only; "all" for every event)',
  },
  {
    name: 'jobs',
    value: 'J1,J2',
    help: 'only these jobs, by name or uuid (default, or "all": every job)',
  },
  {
    name: 'reminder-hours',
    value: 'N',
    help: 'tell again about a job still failing after N hours (0: never; default 24)',
  },
]

const EVENTS_DETAILS =
  `Events: ${NOTIFY_EVENTS.join(', ')}.\n` +
  'A failing job is announced once, then again after --reminder-hours, and once when it works again.\n\n' +
  'Secret settings (a Slack webhook URL, a token, a password) belong on stdin, not in --set, where\n' +
  'other users can read them: --set-secret NAME reads one line of stdin, or asks on the terminal.\n' +
  'For example:\n' +
  `  printf '%s\\n' "$SLACK_URL" | bulwark create channel --name ops --kind slack --set-secret webhook_url`

/** A kind's fields in the shape the endpoint helpers take (typing --set, checking --set-secret). */
function asPlugin(info: ChannelKindInfo): PluginInfo {
  return {
    name: info.kind,
    kind: 'target',
    title: info.title,
    version: '',
    author: '',
    summary: info.summary,
    source: 'builtin',
    fields: info.fields,
    capabilities: [],
  }
}

async function kindInfo(ctx: Context, kind: string): Promise<ChannelKindInfo> {
  const kinds = await ctx.client.listChannelKinds()
  const info = kinds.find((k) => k.kind === kind)
  if (!info) {
    const names = kinds.map((k) => k.kind)
    throw new UsageError(
      `no channel kind "${kind}"${didYouMean(kind, names)}; kinds: ${names.join(', ')}`,
      ctx.command,
    )
  }
  return info
}

/** The endpoint helpers say "plugin"; here it is a channel kind. */
async function asKindError<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof UsageError) {
      throw new UsageError(err.message.replace(/plugin "/g, 'channel kind "'), err.command)
    }
    throw err
  }
}

/** --set and --set-secret applied to the base settings. */
async function settingsFor(ctx: Context, info: ChannelKindInfo, base: Record<string, unknown>) {
  const plugin = asPlugin(info)
  const sets = ctx.flags.all('set')
  const settings = await asKindError(() => applySets(base, sets, [], plugin, ctx.command))
  const secrets = await asKindError(() => readSetSecrets(ctx, plugin, info.kind))
  return { ...settings, ...secrets }
}

function parseEvents(ctx: Context): NotifyEvent[] | undefined {
  const text = ctx.flags.str('events')
  if (text === undefined) return undefined
  if (text.trim() === 'all') return [...NOTIFY_EVENTS]
  const events = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
  for (const e of events) {
    if (!(NOTIFY_EVENTS as readonly string[]).includes(e)) {
      throw new UsageError(
        `--events: no event "${e}"${didYouMean(e, NOTIFY_EVENTS)}; events: ${NOTIFY_EVENTS.join(', ')}`,
        ctx.command,
      )
    }
  }
  return events as NotifyEvent[]
}

/** --jobs names or uuids → uuids; "all" (or empty) → null, every job. */
async function parseJobs(ctx: Context): Promise<string[] | null | undefined> {
  const text = ctx.flags.str('jobs')
  if (text === undefined) return undefined
  const refs = text
    .split(',')
    .map((j) => j.trim())
    .filter(Boolean)
  if (refs.length === 0 || (refs.length === 1 && refs[0] === 'all')) return null
  const jobs = ctx.client.listJobs()
  const out: string[] = []
  for (const ref of refs) out.push((await resolveRef('job', ref, () => jobs)).uuid)
  return out
}

function parseReminder(ctx: Context): number | undefined {
  const text = ctx.flags.str('reminder-hours')
  return text === undefined ? undefined : parseInteger(text, '--reminder-hours', 0, 8760)
}

function checkFlags(ctx: Context): void {
  checkSetSecretFlags(
    ctx,
    ctx.flags.all('set').map((item) => splitSet(item, ctx.command)[0]),
  )
  parseEvents(ctx)
  parseReminder(ctx)
}

const deliveryText = (c: Channel) =>
  c.last_delivery
    ? `${c.last_delivery.ok ? 'ok' : 'FAILED'} ${fmtDate(c.last_delivery.at)}`
    : 'never'

export const channelCommands: Command[] = [
  {
    verb: 'list',
    noun: 'channel',
    summary: 'list notification channels and how their last delivery went',
    async run(ctx) {
      const items = await ctx.client.listChannels()
      if (ctx.json) return ctx.out.json(items)
      ctx.out.table(
        ['UUID', 'NAME', 'KIND', 'ENABLED', 'JOBS', 'LAST DELIVERY', 'EVENTS'],
        items.map((c) => [
          shortUuid(c.uuid),
          c.name,
          c.kind,
          c.enabled ? 'yes' : 'no',
          c.jobs === null ? 'all' : String(c.jobs.length),
          deliveryText(c),
          truncate(c.events.join(','), 60),
        ]),
        'no channels',
      )
    },
  },
  {
    verb: 'show',
    noun: 'channel',
    args: [REF_ARG('channel')],
    summary: 'show one channel, its rules and its last delivery (secrets are shown as <redacted>)',
    async run(ctx) {
      const c = await ctx.client.getChannel((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(c)
      const jobs = c.jobs === null ? null : await ctx.client.listJobs()
      const jobNames = (c.jobs ?? []).map((u) => jobs?.find((j) => j.uuid === u)?.name ?? u)
      const settings = Object.entries(c.settings).map(
        ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const,
      )
      const last = c.last_delivery
      ctx.out.pairs([
        ['UUID', c.uuid],
        ['Name', c.name],
        ['Kind', c.kind],
        ['Enabled', c.enabled ? 'yes' : 'no'],
        ['Events', c.events.join(', ') || 'none'],
        ['Jobs', c.jobs === null ? 'all' : jobNames.join(', ') || 'none'],
        ['Reminder', c.reminder_hours === 0 ? 'never' : `after ${c.reminder_hours} h`],
        ['Settings', settings.length ? formatPairs(settings).trimEnd() : '-'],
        [
          'Last delivery',
          last
            ? `${last.ok ? 'ok' : 'FAILED'} ${fmtDate(last.at, true)} (${last.event}, ${last.attempts} attempt(s)): ${last.detail}`
            : 'never',
        ],
      ])
    },
  },
  {
    verb: 'create',
    noun: 'channel',
    summary: 'create a notification channel',
    flags: [nameFlag('channel', true), kindFlag(true), ...ruleFlags],
    details: EVENTS_DETAILS,
    async run(ctx) {
      checkFlags(ctx)
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
      const reminder = parseReminder(ctx)
      if (reminder !== undefined) body.reminder_hours = reminder
      printCreated(ctx, 'channel', name, await ctx.client.createChannel(body))
    },
  },
  {
    verb: 'edit',
    noun: 'channel',
    args: [REF_ARG('channel')],
    summary: 'change a channel; unset fields keep their values, secrets included',
    flags: [
      nameFlag('channel', false),
      ...ruleFlags,
      { name: 'enable', help: 'send through it again' },
      { name: 'disable', help: 'stop sending through it (it is kept)' },
    ],
    details: EVENTS_DETAILS,
    async run(ctx) {
      checkFlags(ctx)
      if (ctx.flags.has('enable') && ctx.flags.has('disable')) {
        throw new UsageError('--enable and --disable cannot be used together', ctx.command)
      }
      requireSomeFlag(ctx, [
        'name',
        'set',
        setSecretFlag.name,
        'events',
        'jobs',
        'reminder-hours',
        'enable',
        'disable',
      ])
      const ref = await resolve(ctx)
      const cur = await ctx.client.getChannel(ref.uuid)
      const info = await kindInfo(ctx, cur.kind)
      const jobs = await parseJobs(ctx)
      const body: ChannelCreateInput = {
        name: ctx.flags.str('name') ?? cur.name,
        kind: cur.kind,
        // Secrets read back as <redacted>, which keeps them.
        settings: await settingsFor(ctx, info, cur.settings),
        events: parseEvents(ctx) ?? cur.events,
        jobs: jobs === undefined ? cur.jobs : jobs,
        reminder_hours: parseReminder(ctx) ?? cur.reminder_hours,
        enabled: ctx.flags.has('enable') ? true : ctx.flags.has('disable') ? false : cur.enabled,
      }
      const res = await ctx.client.updateChannel(ref.uuid, body)
      printDone(ctx, res, 'updated', 'channel', { uuid: ref.uuid, name: body.name })
    },
  },
  {
    verb: 'delete',
    noun: 'channel',
    args: [REF_ARG('channel')],
    summary: 'delete a channel and its secrets',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.deleteChannel(ref.uuid), 'deleted', 'channel', ref)
    },
  },
  {
    verb: 'test',
    noun: 'channel',
    args: [REF_ARG('channel')],
    summary: 'send a test notice through a channel: print OK or FAILED, exit 0 or 1',
    details:
      'The daemon sends one test notice with the stored settings (secrets included) and records\n' +
      'the delivery, so "bulwark show channel" shows it too. With --json: {"at","event","ok","attempts","detail"}.',
    async run(ctx) {
      const ref = await resolve(ctx)
      const res = await ctx.client.testChannel(ref.uuid)
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(`${res.ok ? 'OK' : 'FAILED'}: ${res.detail}`)
      return res.ok ? EXIT_OK : EXIT_FAILED
    },
  },
  {
    verb: 'kinds',
    noun: 'channel',
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
  },
]
