// RabbitMQ definitions as the archive holds them: the management API's
// export made deterministic (object keys and every list sorted, so the same
// definitions always give the same bytes and deduplicate), recognised again
// on restore (a whole broker's export or one vhost's), cut down to one
// vhost, and compared with what a broker already has, item by item.
import { PluginError } from '../../sdk/errors'

export type Item = Record<string, unknown>
export type Definitions = Record<string, unknown>

/** The fields that name an item of each list; two items with the same are the same definition. */
const IDENTITY: Record<string, string[]> = {
  users: ['name'],
  vhosts: ['name'],
  permissions: ['user', 'vhost'],
  topic_permissions: ['user', 'vhost', 'exchange'],
  parameters: ['vhost', 'component', 'name'],
  global_parameters: ['name'],
  policies: ['vhost', 'name'],
  queues: ['vhost', 'name'],
  exchanges: ['vhost', 'name'],
  bindings: ['vhost', 'source', 'destination_type', 'destination', 'routing_key', 'arguments'],
}
export const LISTS = Object.keys(IDENTITY)
/** What a one-vhost export (GET /api/definitions/<vhost>) holds. */
export const VHOST_LISTS = ['parameters', 'policies', 'queues', 'exchanges', 'bindings']

/** Objects with sorted keys; tag lists (user tags, vhost tags) sorted, other lists kept in order. */
export function canonical(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v))
    return key === 'tags' && items.every((v) => typeof v === 'string') ? items.sort() : items
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Item)[k], k)
    return out
  }
  return value
}

const json = (v: unknown) => JSON.stringify(canonical(v))

/** The identity of an item of list `list` as one comparable string. */
export function identity(list: string, item: Item): string {
  const fields = IDENTITY[list]
  return fields ? JSON.stringify(fields.map((f) => canonical(item[f]))) : json(item)
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Every list sorted by identity (then content), every object's keys sorted. */
export function normalize(defs: Definitions): Definitions {
  const out: Definitions = {}
  for (const key of Object.keys(defs).sort()) {
    const value = defs[key]
    if (!Array.isArray(value)) {
      out[key] = canonical(value, key)
      continue
    }
    out[key] = (value as Item[])
      .map((item) => ({ item: canonical(item) as Item, id: identity(key, item), body: json(item) }))
      .sort((a, b) => compare(a.id, b.id) || compare(a.body, b.body))
      .map((x) => x.item)
  }
  return out
}

/** The archive's bytes: normalized, indented (so a change touches few lines, and few chunks). */
export const serialize = (defs: Definitions): Buffer =>
  Buffer.from(`${JSON.stringify(normalize(defs), null, 2)}\n`)

/** A whole broker's export has users and vhosts; one vhost's has neither. */
export const isWholeBroker = (defs: Definitions): boolean =>
  Array.isArray(defs.vhosts) || Array.isArray(defs.users)

export const listOf = (defs: Definitions, list: string): Item[] =>
  Array.isArray(defs[list]) ? (defs[list] as Item[]) : []

/** Parses an archive, or says (permanently) that it is not RabbitMQ definitions. */
export function parseArchive(text: string): Definitions {
  const notDefinitions = (why: string) =>
    new PluginError(`the archive is not RabbitMQ definitions (${why}); the broker was not changed`)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw notDefinitions(`not complete JSON: ${(err as Error).message}`)
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw notDefinitions('not a JSON object')
  }
  const defs = parsed as Definitions
  for (const list of LISTS) {
    const value = defs[list]
    if (value === undefined) continue
    if (!Array.isArray(value) || value.some((v) => !v || typeof v !== 'object')) {
      throw notDefinitions(`"${list}" is not a list of objects`)
    }
  }
  if (!LISTS.some((l) => l in defs) && !('rabbit_version' in defs)) {
    throw notDefinitions('none of queues, exchanges, vhosts, users... in it')
  }
  return defs
}

/**
 * One vhost's definitions without the vhost's name in them (a vhost's export
 * still names it in its policies), so they restore into any vhost alike and
 * the archive does not change with the vhost's name.
 */
export function withoutVhost(defs: Definitions): Definitions {
  const out: Definitions = { ...defs }
  for (const list of VHOST_LISTS) {
    if (Array.isArray(defs[list]))
      out[list] = listOf(defs, list).map(({ vhost: _, ...rest }) => rest)
  }
  return out
}

/** One vhost's definitions out of a whole broker's export, as withoutVhost has them. */
export function vhostSlice(whole: Definitions, vhost: string): Definitions {
  const out: Definitions = {}
  if (typeof whole.rabbit_version === 'string') out.rabbit_version = whole.rabbit_version
  for (const list of VHOST_LISTS) out[list] = listOf(whole, list).filter((i) => i.vhost === vhost)
  return withoutVhost(out)
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** "3 vhosts, 2 users, 12 queues, 7 exchanges, 9 bindings, 1 policy". */
export function summary(defs: Definitions): string {
  const parts: string[] = []
  if (isWholeBroker(defs)) {
    parts.push(plural(listOf(defs, 'vhosts').length, 'vhost'))
    parts.push(plural(listOf(defs, 'users').length, 'user'))
  }
  parts.push(plural(listOf(defs, 'queues').length, 'queue'))
  parts.push(plural(listOf(defs, 'exchanges').length, 'exchange'))
  parts.push(plural(listOf(defs, 'bindings').length, 'binding'))
  parts.push(plural(listOf(defs, 'policies').length, 'policy', 'policies'))
  return parts.join(', ')
}

export interface ListDiff {
  list: string
  created: Item[]
  unchanged: Item[]
  /** In both, with other content: [archive's, broker's]. */
  changed: [Item, Item][]
}

/**
 * How the archive's items of each list stand against what the broker has:
 * new, the same, or there with other content. Only the archive item's own
 * fields are compared, so a newer broker's extra fields are no difference.
 */
export function diff(archive: Definitions, broker: Definitions, lists: string[]): ListDiff[] {
  return lists.map((list) => {
    const have = new Map(listOf(broker, list).map((item) => [identity(list, item), item]))
    const out: ListDiff = { list, created: [], unchanged: [], changed: [] }
    for (const item of listOf(archive, list)) {
      const existing = have.get(identity(list, item))
      if (!existing) {
        out.created.push(item)
        continue
      }
      const same = Object.keys(item).every((k) => json(item[k]) === json(existing[k]))
      if (same) out.unchanged.push(item)
      else out.changed.push([item, existing])
    }
    return out
  })
}

/** The archive's items (of the lists given) that the broker does not have, by identity. */
export function missing(archive: Definitions, broker: Definitions, lists: string[]): string[] {
  return diff(archive, broker, lists).flatMap((d) =>
    d.created.map((item) => `${singular(d.list)} ${label(d.list, item)}`),
  )
}

export const singular = (list: string) =>
  list === 'policies' ? 'policy' : list.replace(/_/g, ' ').replace(/s$/, '')

/** How a person names an item: `"q1" in vhost "orders"`, `"alice"`, `"ex" → "q1"`. */
export function label(list: string, item: Item): string {
  const q = (v: unknown) => JSON.stringify(v)
  const where = typeof item.vhost === 'string' ? ` in vhost ${q(item.vhost)}` : ''
  if (list === 'bindings') return `${q(item.source)} → ${q(item.destination)}${where}`
  if (list === 'permissions' || list === 'topic_permissions') return `of ${q(item.user)}${where}`
  return `${q(item.name)}${where}`
}
