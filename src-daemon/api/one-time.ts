// Single-use secrets with a lifetime: browser sign-in codes, and download
// tickets (tickets.ts). Each is 32 random bytes, bound to a scope, good once,
// forgotten when used or expired. They are kept by their SHA-256 (a lookup on
// the hash tells nothing about the code) and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { systemClock, type Clock } from '../platform/clock'

/** Longer than any code issued (43 characters); anything longer is not looked up. */
const MAX_CODE = 200

interface Entry {
  digest: Buffer
  scope: string
  expiresAt: number
}

const digestOf = (code: string): Buffer => createHash('sha256').update(code).digest()

export class OneTimeCodes {
  private readonly live = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly ttlMs: number,
  ) {}

  /** A new single-use code for the scope; `expiresAt` in ms since the epoch. */
  issue(scope = ''): { code: string; expiresAt: number } {
    this.purge()
    const code = randomBytes(32).toString('base64url')
    const digest = digestOf(code)
    const expiresAt = this.clock.now() + this.ttlMs
    this.live.set(digest.toString('hex'), { digest, scope, expiresAt })
    return { code, expiresAt }
  }

  /**
   * True once for a live code of this scope. A code is gone once presented,
   * whatever the outcome: one shown for another scope was misused.
   */
  redeem(code: string, scope = ''): boolean {
    this.purge()
    if (typeof code !== 'string' || code === '' || code.length > MAX_CODE) return false
    const digest = digestOf(code)
    const key = digest.toString('hex')
    const entry = this.live.get(key)
    if (!entry || !timingSafeEqual(entry.digest, digest)) return false
    this.live.delete(key)
    return entry.scope === scope
  }

  /** Codes issued and neither redeemed nor expired. */
  get size(): number {
    this.purge()
    return this.live.size
  }

  private purge(): void {
    const now = this.clock.now()
    for (const [key, entry] of this.live) if (entry.expiresAt <= now) this.live.delete(key)
  }
}
