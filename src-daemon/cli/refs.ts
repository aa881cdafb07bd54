// REF resolution: a uuid, a unique uuid prefix (at least 4 characters) or an
// exact unique name. Prefixes and names are looked up in the list endpoint;
// a full uuid is used as is, so an unknown one gets the daemon's 404.
import { UUID_PATTERN } from '../contract'
import { CliError, closest } from './errors'
import { formatTable } from './output'

export const MIN_PREFIX = 4
const uuidRe = new RegExp(UUID_PATTERN)

export interface Named {
  uuid: string
  name?: string | null
}

export interface Resolved {
  uuid: string
  /** Known when the ref was looked up in the list. */
  name?: string
}

export const isUuid = (s: string) => uuidRe.test(s)

/** Finds the one item `ref` means, or throws a CliError that lists the candidates. */
export function pickRef<T extends Named>(kind: string, ref: string, items: readonly T[]): T {
  const byName = items.filter((i) => i.name === ref)
  if (byName.length === 1 && byName[0]) return byName[0]
  if (byName.length > 1) throw ambiguous(kind, ref, byName, 'are named')
  const lower = ref.toLowerCase()
  if (/^[0-9a-f-]+$/.test(lower) && lower.length >= MIN_PREFIX) {
    const byPrefix = items.filter((i) => i.uuid.toLowerCase().startsWith(lower))
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0]
    if (byPrefix.length > 1) throw ambiguous(kind, ref, byPrefix, 'have uuids starting with')
  }
  const names = items.map((i) => i.name).filter((n): n is string => !!n)
  const guess = closest(ref, names)
  const hint = guess
    ? `; did you mean "${guess}"?`
    : names.length > 0 && names.length <= 10
      ? `; known ${kind}s: ${names.join(', ')}`
      : items.length === 0
        ? ` (there are no ${kind}s)`
        : ''
  const short =
    /^[0-9a-f-]+$/.test(lower) && lower.length < MIN_PREFIX
      ? ` (a uuid prefix needs at least ${MIN_PREFIX} characters)`
      : ''
  return notFound(kind, ref, `${short}${hint}`)
}

function notFound(kind: string, ref: string, hint: string): never {
  throw new CliError(`no ${kind} matches "${ref}"${hint}`)
}

function ambiguous(kind: string, ref: string, items: readonly Named[], how: string): CliError {
  const table = formatTable(
    ['UUID', 'NAME'],
    items.map((i) => [i.uuid, i.name ?? '']),
  )
    .trimEnd()
    .replace(/^/gm, '  ')
  return new CliError(`${items.length} ${kind}s ${how} "${ref}"; use more of the uuid:\n${table}`)
}

/** Resolves `ref` with one list call unless it already is a full uuid. */
export async function resolveRef<T extends Named>(
  kind: string,
  ref: string,
  list: () => Promise<T[]>,
): Promise<Resolved> {
  if (isUuid(ref)) return { uuid: ref }
  const item = pickRef(kind, ref, await list())
  return item.name ? { uuid: item.uuid, name: item.name } : { uuid: item.uuid }
}

/** "name (uuid8)" or the bare uuid, for messages. */
export const label = (r: Resolved) => (r.name ? `"${r.name}" (${r.uuid})` : r.uuid)
