// When to restart a daemon that died, and when to tell the person it keeps
// dying. Pure arithmetic over the times of its deaths, so tests can drive it.

export interface BackoffOptions {
  /** The first restart waits this long (default 1 s); each further one twice as long. */
  initialMs?: number
  /** No wait is longer than this (default 60 s). */
  maxMs?: number
  /** A daemon that stayed up this long (default 2 min) starts over at initialMs. */
  stableMs?: number
  /** This many deaths (default 5) within failWindowMs means it keeps dying. */
  failLimit?: number
  failWindowMs?: number
}

export class Backoff {
  readonly initialMs: number
  readonly maxMs: number
  readonly stableMs: number
  readonly failLimit: number
  readonly failWindowMs: number
  private attempt = 0
  private deaths: number[] = []

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000
    this.maxMs = opts.maxMs ?? 60_000
    this.stableMs = opts.stableMs ?? 120_000
    this.failLimit = opts.failLimit ?? 5
    this.failWindowMs = opts.failWindowMs ?? 5 * 60_000
  }

  /**
   * Records a death at `now` of a daemon that was up since `upSince` (null: it
   * never got ready). Returns how long to wait before the next start, and
   * whether it now counts as failing.
   */
  died(now: number, upSince: number | null): { delayMs: number; failing: boolean } {
    if (upSince !== null && now - upSince >= this.stableMs) this.attempt = 0
    const delayMs = Math.min(this.initialMs * 2 ** this.attempt, this.maxMs)
    this.attempt++
    this.deaths = this.deaths.filter((t) => now - t < this.failWindowMs)
    this.deaths.push(now)
    return { delayMs, failing: this.deaths.length >= this.failLimit }
  }

  /** Deaths within the window, as of the last one. */
  get recentDeaths(): number {
    return this.deaths.length
  }
}

/** A wait as a person reads it: 250 ms, 4 s, 2 min. */
export function formatDelay(ms: number): string {
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${Math.round(ms / 1000)} s`
      : `${Math.round(ms / 60_000)} min`
}
