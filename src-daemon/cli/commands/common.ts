// Pieces every noun's commands share: common flags, the used/unused filter,
// the one-line confirmations, and the owner recorded on ad hoc tasks.
import { userInfo } from 'node:os'
import type { Created } from '../../contract'
import { oneOf, type FlagSpec } from '../args'
import type { Context } from '../command'
import { UsageError } from '../errors'
import { label, type Resolved } from '../refs'

export const REF_ARG = (kind: string) => ({
  name: 'REF',
  help: `the ${kind}: its uuid, a unique uuid prefix (4+ characters) or its exact name`,
})

export const UUID_ARG = (kind: string) => ({
  name: 'UUID',
  help: `the ${kind}'s uuid or a unique prefix of it (4+ characters)`,
})

export const nameFlag = (kind: string, required: boolean): FlagSpec => ({
  name: 'name',
  value: 'NAME',
  required,
  help: `a name for the ${kind}, unique enough to use as a REF`,
})

export const summaryFlag = (kind: string): FlagSpec => ({
  name: 'summary',
  value: 'TEXT',
  help: `a short description of the ${kind}`,
})

export const usageFlags: FlagSpec[] = [
  { name: 'used', help: 'only those a job uses' },
  { name: 'unused', help: 'only those no job uses (safe to delete)' },
]

/** --used / --unused as the API's `unused` filter. */
export function unusedFilter(ctx: Context): boolean | undefined {
  const which = oneOf(ctx.flags, 'used', 'unused', ctx.command)
  return which === undefined ? undefined : which === 'unused'
}

export function printCreated(ctx: Context, kind: string, name: string, res: Created): void {
  if (ctx.json) ctx.out.json(res)
  else ctx.out.line(`created ${kind} "${name}" ${res.uuid}`)
}

export function printDone(ctx: Context, res: unknown, verb: string, kind: string, ref: Resolved) {
  if (ctx.json) ctx.out.json(res)
  else ctx.out.line(`${verb} ${kind} ${label(ref)}`)
}

/** An edit that names no change is a mistake, not a no-op. */
export function requireSomeFlag(ctx: Context, names: readonly string[]): void {
  if (!names.some((n) => ctx.flags.has(n))) {
    throw new UsageError(
      `nothing to change: give at least one of ${names.map((n) => `--${n}`).join(', ')}`,
      ctx.command,
    )
  }
}

/** Who asked for an ad hoc task: --owner, else the local user name. */
export function owner(ctx: Context): string | undefined {
  const flag = ctx.flags.str('owner')
  if (flag) return flag
  try {
    return userInfo().username || undefined
  } catch {
    return undefined
  }
}

export const ownerFlag: FlagSpec = {
  name: 'owner',
  value: 'NAME',
  help: 'who is asking, recorded on the task (default: your user name)',
}
