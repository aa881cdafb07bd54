// bulwark list|show|create|edit|delete retention (policy).
import { MIN_RETENTION_SECONDS, type RetentionInput } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { UsageError } from '../errors'
import { fmtDuration, parseDuration, parseInteger, shortUuid, truncate } from '../format'
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

const expiresFlag = (required: boolean): FlagSpec => ({
  name: 'expires',
  value: 'DURATION',
  required,
  help: 'how long archives are kept: seconds, or 90m, 12h, 7d, 4w, 1y (at least 1h)',
})

const keepMinFlag: FlagSpec = {
  name: 'keep-min',
  value: 'N',
  help: 'always keep the newest N valid archives of each job, however old (default 1; 0 keeps none)',
}

const kind = 'retention policy'

const resolve = (ctx: Context) =>
  resolveRef(kind, ctx.args[0] ?? '', () => ctx.client.listRetention())

function expires(ctx: Context): number | undefined {
  const text = ctx.flags.str('expires')
  if (text === undefined) return undefined
  const seconds = parseDuration(text)
  if (seconds < MIN_RETENTION_SECONDS) {
    throw new UsageError(
      `--expires must be at least 1h (${MIN_RETENTION_SECONDS} seconds); got ${text}`,
      ctx.command,
    )
  }
  return seconds
}

function keepMin(ctx: Context): number | undefined {
  const text = ctx.flags.str('keep-min')
  return text === undefined ? undefined : parseInteger(text, '--keep-min', 0)
}

/** "the newest 2 archives of each job", for list and show. */
const keeps = (n: number) =>
  n === 0 ? 'none' : `newest ${n === 1 ? 'archive' : `${n} archives`} of each job`

export const retentionCommands: Command[] = [
  {
    verb: 'list',
    noun: 'retention',
    summary: 'list retention policies',
    synopsis: '[--used|--unused]',
    flags: usageFlags,
    async run(ctx) {
      const items = await ctx.client.listRetention({ unused: unusedFilter(ctx) })
      if (ctx.json) return ctx.out.json(items)
      ctx.out.table(
        ['UUID', 'NAME', 'EXPIRES', 'KEEP MIN', 'SUMMARY'],
        items.map((r) => [
          shortUuid(r.uuid),
          r.name,
          fmtDuration(r.expires),
          String(r.keep_min),
          truncate(r.summary, 50),
        ]),
        'no retention policies',
      )
    },
  },
  {
    verb: 'show',
    noun: 'retention',
    args: [REF_ARG(kind)],
    summary: 'show one retention policy',
    async run(ctx) {
      const r = await ctx.client.getRetention((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(r)
      ctx.out.pairs([
        ['UUID', r.uuid],
        ['Name', r.name],
        ['Summary', r.summary],
        ['Expires', `${fmtDuration(r.expires)} (${r.expires} seconds)`],
        ['Always keeps', keeps(r.keep_min)],
      ])
    },
  },
  {
    verb: 'create',
    noun: 'retention',
    summary: 'create a retention policy',
    flags: [nameFlag(kind, true), expiresFlag(true), keepMinFlag, summaryFlag(kind)],
    async run(ctx) {
      const body: RetentionInput = { name: ctx.flags.str('name') ?? '', expires: expires(ctx) ?? 0 }
      const min = keepMin(ctx)
      if (min !== undefined) body.keep_min = min
      const summary = ctx.flags.str('summary')
      if (summary !== undefined) body.summary = summary
      printCreated(ctx, kind, body.name, await ctx.client.createRetention(body))
    },
  },
  {
    verb: 'edit',
    noun: 'retention',
    args: [REF_ARG(kind)],
    summary: 'change a retention policy; unset fields keep their values',
    flags: [nameFlag(kind, false), expiresFlag(false), keepMinFlag, summaryFlag(kind)],
    async run(ctx) {
      requireSomeFlag(ctx, ['name', 'expires', 'keep-min', 'summary'])
      const seconds = expires(ctx)
      const min = keepMin(ctx)
      const ref = await resolve(ctx)
      const cur = await ctx.client.getRetention(ref.uuid)
      const body = {
        name: ctx.flags.str('name') ?? cur.name,
        summary: ctx.flags.str('summary') ?? cur.summary,
        expires: seconds ?? cur.expires,
        keep_min: min ?? cur.keep_min,
      }
      const res = await ctx.client.updateRetention(ref.uuid, body)
      printDone(ctx, res, 'updated', kind, { uuid: ref.uuid, name: body.name })
    },
  },
  {
    verb: 'delete',
    noun: 'retention',
    args: [REF_ARG(kind)],
    summary: 'delete a retention policy (refused while a job uses it)',
    async run(ctx) {
      const ref = await resolve(ctx)
      printDone(ctx, await ctx.client.deleteRetention(ref.uuid), 'deleted', kind, ref)
    },
  },
]
