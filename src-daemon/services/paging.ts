// Pages of a list: keyset cursors (the sort key of a page's last row, not an
// offset, so rows added or removed meanwhile neither repeat nor go missing)
// and the page a list route answers with. A cursor is opaque to clients: it
// names its list, and one from another list, or altered, is a 400 naming it.
import { invalid } from '../contract'

export interface Page<T> {
  items: T[]
  /** How many match the filters, across all pages. */
  total: number
  /** The cursor of the next page; null on the last. */
  next: string | null
}

export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url')
}

/** The key a cursor of `list` holds, checked against `shape` ('s' string, 'n' number). */
export function decodeCursor(list: string, cursor: string, shape: string): (string | number)[] {
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parts = undefined
  }
  const fits =
    Array.isArray(parts) &&
    parts.length === shape.length + 1 &&
    parts[0] === list &&
    [...shape].every((t, i) =>
      t === 'n' ? Number.isSafeInteger(parts[i + 1]) : typeof parts[i + 1] === 'string',
    )
  if (!fits) {
    throw invalid(
      'cursor',
      `cursor is not one this list gave: pass the X-Next-Cursor header of the previous page of GET /v1/${list} as it came`,
    )
  }
  return (parts as unknown[]).slice(1) as (string | number)[]
}

/**
 * A page from rows read with one more than `limit` (null: no limit): the
 * extra row only says that another page follows.
 */
export function pageOf<R, T>(
  rows: R[],
  limit: number | null,
  total: number,
  view: (row: R) => T,
  cursor: (row: R) => string,
): Page<T> {
  const more = limit !== null && rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept.at(-1)
  return {
    items: kept.map(view),
    total,
    next: more && last !== undefined ? cursor(last) : null,
  }
}

/** SQLite's NOCASE: only ASCII letters fold (the named lists are ordered by it). */
const nocase = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

/**
 * A page of a list of named resources already in its order (name NOCASE,
 * then uuid), read whole: targets, stores, jobs and the like are a few
 * hundred rows at most, so paging them needs no query of its own. The cursor
 * is the last row's (name, uuid); the next page starts after that key, so a
 * row removed meanwhile does not shift the pages.
 */
export function pageInOrder<T extends { name: string; uuid: string }>(
  list: string,
  items: T[],
  query: { limit?: string; cursor?: string },
): Page<T> {
  let rest = items
  if (query.cursor !== undefined) {
    const [name, uuid] = decodeCursor(list, query.cursor, 'ss') as [string, string]
    const key = nocase(name)
    rest = items.filter((i) => {
      const n = nocase(i.name)
      return n > key || (n === key && i.uuid > uuid)
    })
  }
  const limit = query.limit === undefined ? null : Number(query.limit)
  const rows = limit === null ? rest : rest.slice(0, limit + 1)
  return pageOf(
    rows,
    limit,
    items.length,
    (i) => i,
    (i) => encodeCursor(list, [i.name, i.uuid]),
  )
}
