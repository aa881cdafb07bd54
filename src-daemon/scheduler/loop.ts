// The scheduler: wakes up, asks which jobs are due (per their schedule, in
// their timezone), and hands each due job to `fire`; a job with a verify
// schedule has its verify fired the same way, on that schedule. Missed runs
// collapse into one; a run missed while the daemon was down runs once at
// start unless catch-up is off; a paused job fires neither. Everything
// time-related comes from the injected clock.
//
// Sleep and wake: the loop never waits longer than MAX_SLEEP_MS, so when the
// wall clock has moved much further than that between two of its turns, the
// process was not running (the laptop slept, the VM was suspended). The turn
// that notices treats what came due meanwhile as it does at start: each
// schedule runs once (or not at all with catch-up off), and one log line says
// so. The desktop app's resume signal needs nothing more: the daemon slept too.
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import { nextRuns } from './timespec'

export interface SchedulableJob {
  uuid: string
  name: string
  paused: boolean
  when: string
  timezone: string
  /** When the job last fired (or was created): runs are counted from here. */
  anchor: number
  /** The job's verify schedule, if it has one. */
  verify?: ScheduledVerify
}

/** A verify schedule: its own times, and what to do when it comes due. */
export interface ScheduledVerify {
  when: string
  timezone: string
  /** When the verify last fired (or the schedule was set): runs are counted from here. */
  anchor: number
  /** Queues a verify (of the job's newest valid archive); `dueAt` is the time that came due. */
  fire(dueAt: number): void
  /** Records that the verifies due up to `at` are dealt with. */
  markFired(at: number): void
}

/** One schedule of a job, as the loop handles both kinds. */
interface Slot {
  /** For the log: "job nightly", "verify of job nightly". */
  label: string
  /** "a run", "a verify": what a skipped one was. */
  what: string
  when: string
  timezone: string
  anchor: number
  fire(dueAt: number): void
  markFired(at: number): void
}

export interface SchedulerDeps {
  clock: Clock
  log: Logger
  jobs(): SchedulableJob[]
  /** Enqueue a backup for the job; `dueAt` is the scheduled time that came due. */
  fire(job: SchedulableJob, dueAt: number): void
  /** Records that the job's runs up to `at` are dealt with. */
  markFired(jobUuid: string, at: number): void
  /** Periodic chores (expiring archives), run every `housekeepingMs`. */
  housekeeping(): void
  /** BULWARK_MODE=DEV: every schedule fires every minute. */
  devMode?: boolean
  /** Run a schedule missed while the daemon was down, once, at start. */
  catchUp?: boolean
  housekeepingMs?: number
}

const DEV_SCHEDULE = '* * * * *'
const MAX_SLEEP_MS = 15_000
/** Lateness of a turn beyond which the process must have been stopped (timers drift by far less). */
export const CLOCK_JUMP_MARGIN_MS = 30_000

export class Scheduler {
  private timer: NodeJS.Timeout | undefined
  /** Why the next tick may find runs missed: the daemon just started, or the machine slept. */
  private away: 'down' | 'asleep' | null = 'down'
  /** When the loop's next turn is due by the clock (null: no turn scheduled). */
  private expectedAt: number | null = null
  private lastHousekeeping = -Infinity

  constructor(private readonly deps: SchedulerDeps) {}

  /** One pass: fires what is due now. Returns when the next job is due (ms), if any. */
  tick(): number | null {
    const now = this.deps.clock.now()
    const housekeepingMs = this.deps.housekeepingMs ?? 5 * 60_000
    if (now - this.lastHousekeeping >= housekeepingMs) {
      this.lastHousekeeping = now
      this.safely('housekeeping', () => this.deps.housekeeping())
    }
    let soonest: number | null = null
    for (const job of this.deps.jobs()) {
      for (const slot of this.slots(job)) {
        const next = this.consider(job, slot, now)
        if (next !== null && (soonest === null || next < soonest)) soonest = next
      }
    }
    this.away = null
    return soonest
  }

  /**
   * Called by the loop before each turn: if the clock jumped well past the
   * turn's due time, the next tick catches up as at start. Returns the jump (ms), or 0.
   */
  private noticeClockJump(now: number): number {
    const expected = this.expectedAt
    if (expected === null || now - expected <= CLOCK_JUMP_MARGIN_MS) return 0
    const late = now - expected
    this.away = 'asleep'
    this.deps.log.info(
      `scheduler: the clock moved ${describeGap(late)} further than expected between two turns ` +
        `(the machine slept or was suspended); ` +
        (this.deps.catchUp === false
          ? 'catch-up is off, so runs missed meanwhile are skipped'
          : 'each schedule missed meanwhile runs once now'),
    )
    return late
  }

  /** The job's backup schedule, and its verify schedule if it has one. */
  private slots(job: SchedulableJob): Slot[] {
    const slots: Slot[] = [
      {
        label: `job ${job.name}`,
        what: 'a run',
        when: job.when,
        timezone: job.timezone,
        anchor: job.anchor,
        fire: (dueAt) => this.deps.fire(job, dueAt),
        markFired: (at) => this.deps.markFired(job.uuid, at),
      },
    ]
    const v = job.verify
    if (v) {
      slots.push({
        label: `verify of job ${job.name}`,
        what: 'a verify',
        when: v.when,
        timezone: v.timezone,
        anchor: v.anchor,
        fire: (dueAt) => v.fire(dueAt),
        markFired: (at) => v.markFired(at),
      })
    }
    return slots
  }

  /** Fires the slot if it is due; returns when it is next due, if ever. */
  private consider(job: SchedulableJob, slot: Slot, now: number): number | null {
    const when = this.deps.devMode ? DEV_SCHEDULE : slot.when
    const due = this.nextAfter(slot.timezone, when, slot.anchor)
    if (due === null || due > now) return due
    this.safely(slot.label, () => this.due(job, slot, due, now))
    return this.nextAfter(slot.timezone, when, now)
  }

  start(): void {
    const loop = () => {
      this.noticeClockJump(this.deps.clock.now())
      const soonest = this.tick()
      const now = this.deps.clock.now()
      const wait =
        soonest === null ? MAX_SLEEP_MS : Math.min(Math.max(soonest - now, 200), MAX_SLEEP_MS)
      this.expectedAt = now + wait
      this.timer = setTimeout(loop, wait)
      this.timer.unref()
    }
    loop()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.expectedAt = null
  }

  private due(job: SchedulableJob, slot: Slot, dueAt: number, now: number): void {
    if (job.paused) {
      // A paused job's missed runs (and verifies) are dropped, so unpausing does not fire at once.
      slot.markFired(now)
      return
    }
    if (this.away && this.deps.catchUp === false) {
      const why = this.away === 'down' ? 'the daemon was down' : 'the machine slept'
      this.deps.log.info(
        `job "${job.name}" missed ${slot.what} at ${new Date(dueAt).toISOString()} while ${why}; catch-up is off, skipping it`,
      )
      slot.markFired(now)
      return
    }
    slot.markFired(now)
    slot.fire(dueAt)
  }

  private nextAfter(timezone: string, when: string, from: number): number | null {
    try {
      return nextRuns(when, timezone, new Date(from), 1)[0]?.getTime() ?? null
    } catch {
      return null // an unreadable schedule never fires; the API refuses to save one
    }
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.deps.log.error(`scheduler: ${what} failed: ${(err as Error).message}`)
    }
  }
}

/** "3 h 20 min", "12 min", "45 s": how long the process was away, for the log. */
function describeGap(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const min = Math.round(s / 60)
  if (min < 60) return `${min} min`
  return `${Math.floor(min / 60)} h ${min % 60} min`
}
