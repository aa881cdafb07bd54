// Single-use secrets with a lifetime: sign-in codes for browsers. Each code is
// 32 random bytes, bound to a scope, redeemed at most once, and forgotten when
// used or expired.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../platform/clock'

interface Entry {
  scope: string
  expiresAt: number
}

export class OneTimeCodes {
  private readonly codes = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  issue(scope = ''): { code: string; expiresAt: number } {
    this.purge()
    const code = randomBytes(32).toString('base64url')
    const expiresAt = this.clock.now() + this.ttlMs
    this.codes.set(code, { scope, expiresAt })
    return { code, expiresAt }
  }

  /** True once for a live code of this scope; the code is gone afterwards either way. */
  redeem(code: string, scope = ''): boolean {
    this.purge()
    // Look up by value, then compare in constant time so a near miss tells nothing.
    for (const [known, entry] of this.codes) {
      const a = Buffer.from(known)
      const b = Buffer.from(code)
      if (a.length === b.length && timingSafeEqual(a, b)) {
        this.codes.delete(known)
        return entry.scope === scope
      }
    }
    return false
  }

  private purge(): void {
    const now = this.clock.now()
    for (const [code, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(code)
  }
}
