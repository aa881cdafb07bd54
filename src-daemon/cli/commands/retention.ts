// bulwark list|show|create|edit|delete retention (policy).
import { MIN_RETENTION_SECONDS, type RetentionInput } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { UsageError } from '../errors'
import { fmtDuration, shortUuid, truncate } from '../format'
import { nameFlag, summaryFlag, unusedFilter, usageFlags } from './common'
import { action, create, defineNoun, edit, list, show } from './noun'

const expiresFlag = (required: boolean): FlagSpec => ({
  name: 'expires',
  value: 'DURATION',
  type: 'duration',
  required,
  help: 'how long archives are kept: seconds, or 90m, 12h, 7d, 4w, 1y (at least 1h)',
})

const keepMinFlag: FlagSpec = {
  name: 'keep-min',
  value: 'N',
  type: 'int',
  min: 0,
  help: 'always keep the newest N valid archives of each job, however old (default 1; 0 keeps none)',
}

const kind = 'retention policy'

function expires(ctx: Context): number | undefined {
  const seconds = ctx.flags.duration('expires')
  if (seconds === undefined) return undefined
  if (seconds < MIN_RETENTION_SECONDS) {
    const text = ctx.flags.str('expires') ?? ''
    throw new UsageError(
      `--expires must be at least 1h (${MIN_RETENTION_SECONDS} seconds); got ${text}`,
      ctx.command,
    )
  }
  return seconds
}

/** "the newest 2 archives of each job", for list and show. */
const keeps = (n: number) =>
  n === 0 ? 'none' : `newest ${n === 1 ? 'archive' : `${n} archives`} of each job`

export const retentionCommands: Command[] = defineNoun({
  noun: 'retention',
  kind,
  refs: (c) => c.listRetention(),
  verbs: [
    list({
      summary: 'list retention policies',
      synopsis: '[--used|--unused]',
      flags: usageFlags,
      fetch: (ctx) => ctx.client.listRetention({ unused: unusedFilter(ctx) }),
      columns: [
        ['UUID', (r) => shortUuid(r.uuid)],
        ['NAME', (r) => r.name],
        ['EXPIRES', (r) => fmtDuration(r.expires)],
        ['KEEP MIN', (r) => String(r.keep_min)],
        ['SUMMARY', (r) => truncate(r.summary, 50)],
      ],
      empty: 'no retention policies',
    }),
    show({
      summary: 'show one retention policy',
      get: (c, uuid) => c.getRetention(uuid),
      fields: [
        ['UUID', (r) => r.uuid],
        ['Name', (r) => r.name],
        ['Summary', (r) => r.summary],
        ['Expires', (r) => `${fmtDuration(r.expires)} (${r.expires} seconds)`],
        ['Always keeps', (r) => keeps(r.keep_min)],
      ],
    }),
    create({
      summary: 'create a retention policy',
      flags: [nameFlag(kind, true), expiresFlag(true), keepMinFlag, summaryFlag(kind)],
      body(ctx) {
        const body: RetentionInput = {
          name: ctx.flags.str('name') ?? '',
          expires: expires(ctx) ?? 0,
        }
        const min = ctx.flags.int('keep-min')
        if (min !== undefined) body.keep_min = min
        const summary = ctx.flags.str('summary')
        if (summary !== undefined) body.summary = summary
        return body
      },
      call: (c, body) => c.createRetention(body),
    }),
    edit({
      summary: 'change a retention policy; unset fields keep their values',
      flags: [nameFlag(kind, false), expiresFlag(false), keepMinFlag, summaryFlag(kind)],
      check(ctx) {
        expires(ctx)
        ctx.flags.int('keep-min')
      },
      load: (ctx, ref) => ctx.client.getRetention(ref.uuid),
      body: (ctx, cur) => ({
        name: ctx.flags.str('name') ?? cur.name,
        summary: ctx.flags.str('summary') ?? cur.summary,
        expires: expires(ctx) ?? cur.expires,
        keep_min: ctx.flags.int('keep-min') ?? cur.keep_min,
      }),
      call: (ctx, uuid, body) => ctx.client.updateRetention(uuid, body),
    }),
    action({
      verb: 'delete',
      summary: 'delete a retention policy (refused while a job uses it)',
      call: (c, uuid) => c.deleteRetention(uuid),
    }),
  ],
})
