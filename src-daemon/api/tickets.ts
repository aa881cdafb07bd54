// Download tickets: a browser cannot put the bearer token on a plain link, so
// POST /v1/archive/:uuid/download-link (authenticated) issues a ticket, and
// GET /v1/archive/:uuid/download?ticket=… is let through by the guard when
// the ticket redeems. A ticket is 32 random bytes, good for one download of
// one archive, within a minute. Tickets are kept by their SHA-256 (a lookup
// on the hash tells nothing about the ticket) and compared in constant time
// (one-time.ts).
import { systemClock, type Clock } from '../platform/clock'
import { OneTimeCodes } from './one-time'

/** How long a download ticket works. */
export const DOWNLOAD_TICKET_TTL_MS = 60_000

/** One-time codes scoped to an archive. */
export class DownloadTickets {
  private readonly codes: OneTimeCodes

  constructor(clock: Clock = systemClock, ttlMs = DOWNLOAD_TICKET_TTL_MS) {
    this.codes = new OneTimeCodes(clock, ttlMs)
  }

  /** A new single-use ticket for the archive; `expiresAt` in ms since the epoch. */
  issue(archiveUuid: string): { ticket: string; expiresAt: number } {
    const { code, expiresAt } = this.codes.issue(archiveUuid.toLowerCase())
    return { ticket: code, expiresAt }
  }

  /** True once for a live ticket of this archive; a ticket is gone once presented. */
  redeem(ticket: string, archiveUuid: string): boolean {
    return this.codes.redeem(ticket, archiveUuid.toLowerCase())
  }

  /** Tickets issued and neither redeemed nor expired. */
  get size(): number {
    return this.codes.size
  }
}

const DOWNLOAD_PATH =
  /^\/v1\/archive\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/download$/

/**
 * For the guard: whether the request is a `GET /v1/archive/:uuid/download`
 * whose one `ticket` query parameter redeems for that archive (using it up).
 * Anything else (another method or path, no ticket, two tickets) is false,
 * and must then carry the bearer token as usual.
 */
export function admitsDownload(tickets: DownloadTickets, method: string, url: string): boolean {
  if (method !== 'GET') return false
  const at = url.indexOf('?')
  if (at < 0) return false
  const archive = DOWNLOAD_PATH.exec(url.slice(0, at))?.[1]
  if (!archive) return false
  const given = new URLSearchParams(url.slice(at + 1)).getAll('ticket')
  return given.length === 1 && tickets.redeem(given[0]!, archive)
}
