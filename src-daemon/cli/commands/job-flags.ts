// The flags of list, create and edit job that name other things or need
// reading: the parts of a job (--target, --store, --schedule, --retention,
// resolved as REFs), --verify-schedule, --rpo and --priority.
import { oneOf, type FlagSpec } from '../args'
import type { Context } from '../command'
import { resolveRef } from '../refs'

export const PARTS = ['target', 'store', 'schedule', 'retention'] as const
type Part = (typeof PARTS)[number]

export const partFlags = (required: boolean, what: string): FlagSpec[] =>
  PARTS.map((p) => ({
    name: p,
    value: 'REF',
    required,
    aliases: p === 'retention' ? ['retention-policy', 'policy'] : [],
    help: `${what} ${p === 'retention' ? 'retention policy' : p} (uuid, prefix or name)`,
  }))

export const priorityFlag: FlagSpec = {
  name: 'priority',
  value: 'N',
  type: 'int',
  min: 0,
  max: 100,
  help: '0 (first) to 100 (last) when tasks queue up (default 50)',
}

/** Resolves the --target/--store/--schedule/--retention flags that were given, in parallel. */
export async function resolveParts(ctx: Context): Promise<Partial<Record<Part, string>>> {
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

export const verifyScheduleFlag: FlagSpec = {
  name: 'verify-schedule',
  value: 'REF',
  help: "also verify the job's newest valid archive on this schedule (uuid, prefix or name)",
}

export const rpoFlag: FlagSpec = {
  name: 'rpo',
  value: 'DURATION',
  type: 'duration',
  help: 'raise "stale" when the newest valid archive is older than this (like 26h, 2d); default: twice the schedule\'s period',
}

/** --rpo DURATION as seconds, --no-rpo as null, neither as undefined. */
export function rpo(ctx: Context): number | null | undefined {
  const which = oneOf(ctx.flags, 'rpo', 'no-rpo', ctx.command)
  if (which === 'no-rpo') return null
  if (which !== 'rpo') return undefined
  return ctx.flags.duration('rpo')
}

/** --verify-schedule REF as a uuid, --no-verify-schedule as null, neither as undefined. */
export async function verifySchedule(ctx: Context): Promise<string | null | undefined> {
  const which = oneOf(ctx.flags, 'verify-schedule', 'no-verify-schedule', ctx.command)
  if (which === 'no-verify-schedule') return null
  if (which === undefined) return undefined
  const ref = ctx.flags.str('verify-schedule') ?? ''
  return (await resolveRef('schedule', ref, () => ctx.client.listSchedules())).uuid
}
