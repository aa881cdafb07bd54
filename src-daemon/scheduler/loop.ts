// The scheduler: wakes up, asks which jobs are due (per their schedule, in
// their timezone), and hands each due job to `fire`. Missed runs collapse
// into one; a run missed while the daemon was down runs once at start unless
// catch-up is off. Everything time-related comes from the injected clock.
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

export class Scheduler {
  private timer: NodeJS.Timeout | undefined
  private first = true
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
      const when = this.deps.devMode ? DEV_SCHEDULE : job.when
      const due = this.nextAfter(job, when, job.anchor)
      if (due === null) continue
      if (due <= now) {
        this.safely(`job ${job.name}`, () => this.due(job, due, now))
        const next = this.nextAfter(job, when, now)
        if (next !== null && (soonest === null || next < soonest)) soonest = next
      } else if (soonest === null || due < soonest) {
        soonest = due
      }
    }
    this.first = false
    return soonest
  }

  start(): void {
    const loop = () => {
      const soonest = this.tick()
      const now = this.deps.clock.now()
      const wait =
        soonest === null ? MAX_SLEEP_MS : Math.min(Math.max(soonest - now, 200), MAX_SLEEP_MS)
      this.timer = setTimeout(loop, wait)
      this.timer.unref()
    }
    loop()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
  }

  private due(job: SchedulableJob, dueAt: number, now: number): void {
    if (job.paused) {
      // A paused job's missed runs are dropped, so unpausing does not fire at once.
      this.deps.markFired(job.uuid, now)
      return
    }
    if (this.first && this.deps.catchUp === false) {
      this.deps.log.info(
        `job "${job.name}" missed a run at ${new Date(dueAt).toISOString()} while the daemon was down; catch-up is off, skipping it`,
      )
      this.deps.markFired(job.uuid, now)
      return
    }
    this.deps.markFired(job.uuid, now)
    this.deps.fire(job, dueAt)
  }

  private nextAfter(job: SchedulableJob, when: string, from: number): number | null {
    try {
      return nextRuns(when, job.timezone, new Date(from), 1)[0]?.getTime() ?? null
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
