// Download tickets: a browser cannot put the bearer token on a plain link, so
// POST /v1/archive/:uuid/download-link (authenticated) issues a ticket, and
// GET /v1/archive/:uuid/download?ticket=… is let through by the guard when
// the ticket redeems. A ticket is 32 random bytes, good for one download of
// one archive, within a minute. Tickets are kept by their SHA-256 (a lookup
// on the hash tells nothing about the ticket) and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { systemClock, type Clock } from '../platform/clock'

/** How long a download ticket works. */
export const DOWNLOAD_TICKET_TTL_MS = 60_000

/** Longer than any ticket we issue (43 characters); anything longer is not looked up. */
const MAX_TICKET = 200

interface Entry {
  digest: Buffer
  archive: string
  expiresAt: number
}

const digestOf = (ticket: string): Buffer => createHash('sha256').update(ticket).digest()

export class DownloadTickets {
  private readonly live = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly ttlMs = DOWNLOAD_TICKET_TTL_MS,
  ) {}

  /** A new single-use ticket for the archive; `expiresAt` in ms since the epoch. */
  issue(archiveUuid: string): { ticket: string; expiresAt: number } {
    this.purge()
    const ticket = randomBytes(32).toString('base64url')
    const digest = digestOf(ticket)
    const expiresAt = this.clock.now() + this.ttlMs
    this.live.set(digest.toString('hex'), {
      digest,
      archive: archiveUuid.toLowerCase(),
      expiresAt,
    })
    return { ticket, expiresAt }
  }

  /**
   * True once for a live ticket of this archive. A ticket is gone after it
   * is presented, whatever the outcome: one shown for another archive was
   * misused, and must be issued again.
   */
  redeem(ticket: string, archiveUuid: string): boolean {
    this.purge()
    if (typeof ticket !== 'string' || ticket === '' || ticket.length > MAX_TICKET) return false
    const digest = digestOf(ticket)
    const key = digest.toString('hex')
    const entry = this.live.get(key)
    if (!entry || !timingSafeEqual(entry.digest, digest)) return false
    this.live.delete(key)
    return entry.archive === archiveUuid.toLowerCase()
  }

  /** Tickets issued and neither redeemed nor expired. */
  get size(): number {
    this.purge()
    return this.live.size
  }

  private purge(): void {
    const now = this.clock.now()
    for (const [key, entry] of this.live) if (entry.expiresAt <= now) this.live.delete(key)
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
