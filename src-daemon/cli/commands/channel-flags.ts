// The flags of create and edit channel: the kind, its settings (--set, typed by
// the kind's fields as a plugin's endpoint is; --set-secret from stdin or the
// terminal, never argv) and the rules of what is sent (--events, --jobs,
// --reminder-hours), checked before anything is sent.
import type { ChannelKindInfo, NotifyEvent } from '../../contract'
import { channelKindAsPlugin, NOTIFY_EVENTS } from '../../contract'
import type { FlagSpec } from '../args'
import type { Context } from '../command'
import { applySets, splitSet } from '../endpoint'
import { UsageError, didYouMean } from '../errors'
import { resolveRef } from '../refs'
import { checkSetSecretFlags, readSetSecrets, setSecretFlag } from '../secrets'

export const kindFlag = (required: boolean): FlagSpec => ({
  name: 'kind',
  value: 'KIND',
  required,
  help: 'webhook, slack, discord, teams, ntfy, gotify, telegram, email or healthchecks (see: bulwark channel kinds)',
})

export const ruleFlags: FlagSpec[] = [
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
    type: 'int',
    min: 0,
    max: 8760,
    help: 'tell again about a job still failing after N hours (0: never; default 24)',
  },
]

export const EVENTS_DETAILS =
  `Events: ${NOTIFY_EVENTS.join(', ')}.\n` +
  'A failing job is announced once, then again after --reminder-hours, and once when it works again.\n\n' +
  'Secret settings (a Slack webhook URL, a token, a password) belong on stdin, not in --set, where\n' +
  'other users can read them: --set-secret NAME reads one line of stdin, or asks on the terminal.\n' +
  'For example:\n' +
  `  printf '%s\\n' "$SLACK_URL" | bulwark create channel --name ops --kind slack --set-secret webhook_url`

export async function kindInfo(ctx: Context, kind: string): Promise<ChannelKindInfo> {
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
export async function settingsFor(
  ctx: Context,
  info: ChannelKindInfo,
  base: Record<string, unknown>,
) {
  const plugin = channelKindAsPlugin(info)
  const sets = ctx.flags.all('set')
  const settings = await asKindError(() => applySets(base, sets, [], plugin, ctx.command))
  const secrets = await asKindError(() => readSetSecrets(ctx, plugin, info.kind))
  return { ...settings, ...secrets }
}

export function parseEvents(ctx: Context): NotifyEvent[] | undefined {
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
export async function parseJobs(ctx: Context): Promise<string[] | null | undefined> {
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

export function checkChannelFlags(ctx: Context): void {
  checkSetSecretFlags(
    ctx,
    ctx.flags.all('set').map((item) => splitSet(item, ctx.command)[0]),
  )
  parseEvents(ctx)
  ctx.flags.int('reminder-hours')
}
