// Download tickets: a browser cannot put the bearer token on a plain link, so
// POST /v1/archive/:uuid/download-link (authenticated) issues a ticket, and
// GET /v1/archive/:uuid/download?ticket=… is let through by the guard when
// the ticket redeems. A ticket is 32 random bytes, good for one download of
// one archive, within a minute. For a tree archive the ticket is also bound
// to the part asked for (its `path` and `format`, as written in the link):
// a ticket for one file cannot fetch another, or the whole tree. Tickets are kept by their SHA-256 (a lookup
// on the hash tells nothing about the ticket) and compared in constant time
// (one-time.ts).
import { systemClock, type Clock } from '../platform/clock'
import type { TreeDownloadPart } from '../contract'
import { OneTimeCodes } from './one-time'

/** How long a download ticket works. */
export const DOWNLOAD_TICKET_TTL_MS = 60_000

/** One-time codes scoped to an archive. */
export class DownloadTickets {
  private readonly codes: OneTimeCodes

  constructor(clock: Clock = systemClock, ttlMs = DOWNLOAD_TICKET_TTL_MS) {
    this.codes = new OneTimeCodes(clock, ttlMs)
  }

  /** A new single-use ticket for the archive (and part); `expiresAt` in ms since the epoch. */
  issue(archiveUuid: string, part: TreeDownloadPart = {}): { ticket: string; expiresAt: number } {
    const { code, expiresAt } = this.codes.issue(scope(archiveUuid, part))
    return { ticket: code, expiresAt }
  }

  /** True once for a live ticket of this archive and part; a ticket is gone once presented. */
  redeem(ticket: string, archiveUuid: string, part: TreeDownloadPart = {}): boolean {
    return this.codes.redeem(ticket, scope(archiveUuid, part))
  }

  /** Tickets issued and neither redeemed nor expired. */
  get size(): number {
    return this.codes.size
  }
}

/** The scope of a ticket: the archive, and the part exactly as the link carries it. */
function scope(archiveUuid: string, part: TreeDownloadPart): string {
  const uuid = archiveUuid.toLowerCase()
  if (part.path === undefined && part.format === undefined) return uuid
  return JSON.stringify([uuid, part.path ?? null, part.format ?? null])
}

/** The query string of a download link for this ticket and part. */
export function downloadQuery(ticket: string, part: TreeDownloadPart): string {
  const q = new URLSearchParams({ ticket })
  if (part.path !== undefined) q.set('path', part.path)
  if (part.format !== undefined) q.set('format', part.format)
  return q.toString()
}

const DOWNLOAD_PATH =
  /^\/v1\/archive\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/download$/

/**
 * For the guard: whether the request is a `GET /v1/archive/:uuid/download`
 * whose one `ticket` query parameter redeems for that archive and the part
 * the query names (using it up). Anything else (another method or path, no
 * ticket, two tickets, two paths or formats) is false, and must then carry
 * the bearer token as usual.
 */
export function admitsDownload(tickets: DownloadTickets, method: string, url: string): boolean {
  if (method !== 'GET') return false
  const at = url.indexOf('?')
  if (at < 0) return false
  const archive = DOWNLOAD_PATH.exec(url.slice(0, at))?.[1]
  if (!archive) return false
  const query = new URLSearchParams(url.slice(at + 1))
  const given = query.getAll('ticket')
  const paths = query.getAll('path')
  const formats = query.getAll('format')
  if (given.length !== 1 || paths.length > 1 || formats.length > 1) return false
  const part = { path: paths[0], format: formats[0] } as TreeDownloadPart
  return tickets.redeem(given[0]!, archive, part)
}
