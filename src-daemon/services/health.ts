// Health signals: the warnings that matter before a restore is needed (a job
// that stopped making archives, an archive much smaller than the ones before
// it, a store running out of space, a verify overdue, an archive verify found
// damaged). Computed from the catalog every minute and right after a task
// ends or a job, archive, store or schedule changes; each one that appears or
// goes is an event ('health' raised / cleared) that notification rules act
// on. The raised set is kept in the catalog, so a restart raises nothing
// twice and every signal keeps the time it was first seen.
import { HealthRepo } from '../catalog/health-repo'
import type {
  DaemonEvent,
  HealthReport,
  HealthSignal,
  HealthSignalKind,
  ResourceKind,
} from '../contract'
import { toIso, toIsoOrNull } from '../platform/clock'
import type { ServiceContext } from './context'
import {
  invalidSignals,
  shrunkSignals,
  staleSignals,
  verifyOverdueSignals,
  type FoundSignal,
} from './health-signals'
import { filesystemOf, lowSpaceFromEnv, lowSpaceSignals, type Filesystem } from './health-space'

/** How often the signals are computed when nothing happens (ages grow with the clock). */
export const CHECK_EVERY_MS = 60_000
/** Changes to these can raise or clear a signal at once. */
const WATCHED: ReadonlySet<ResourceKind> = new Set(['job', 'archive', 'store', 'schedule'])
const ENDED: ReadonlySet<string> = new Set(['done', 'failed', 'canceled'])
const SEVERITY_ORDER = { failure: 0, warning: 1 } as const

export interface HealthOptions {
  /** Free and total bytes of a filesystem (tests give their own). */
  filesystem?: (path: string) => Promise<Filesystem>
  /** The fs stores' free-space threshold in bytes, if set; read at each check. */
  lowSpaceBytes?: () => number | undefined
}

export class HealthService {
  private readonly repo: HealthRepo
  private raised = new Map<string, HealthSignal>()
  private checkedAt: number | null = null
  private running: Promise<void> | null = null
  private again = false
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private queued: NodeJS.Immediate | undefined
  private unsubscribe: (() => void) | undefined

  constructor(
    private readonly ctx: ServiceContext,
    private readonly opts: HealthOptions = {},
  ) {
    this.repo = new HealthRepo(ctx.catalog.db)
    for (const row of this.repo.all()) {
      try {
        const signal = JSON.parse(row.signal) as HealthSignal
        this.raised.set(row.id, { ...signal, id: row.id, since: toIso(row.since) })
      } catch {
        // An unreadable row is dropped: the next check raises the signal again if it holds.
      }
    }
  }

  /** The signals raised now, failures first, then the oldest first. */
  current(): HealthSignal[] {
    return [...this.raised.values()].sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
        a.since.localeCompare(b.since) ||
        a.id.localeCompare(b.id),
    )
  }

  /** GET /v1/health */
  report(): HealthReport {
    return { signals: this.current(), checked_at: toIsoOrNull(this.checkedAt) }
  }

  /**
   * Computes the signals now, raising and clearing what changed. A check
   * asked for while one runs makes that one run again once it ends (the
   * promise covers both), so no change is missed and checks never overlap.
   */
  check(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = this.loop().finally(() => {
      this.running = null
    })
    return this.running
  }

  /** Checks now, then every minute and whenever something that matters changes. */
  start(): void {
    this.stopped = false
    this.unsubscribe = this.ctx.events.subscribe((event) => {
      if (this.matters(event)) this.soon()
    })
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS)
    this.timer.unref()
    void this.check()
  }

  /** Stops checking; resolves once a check under way has ended (the catalog may close then). */
  async stop(): Promise<void> {
    this.stopped = true
    this.unsubscribe?.()
    clearInterval(this.timer)
    if (this.queued) clearImmediate(this.queued)
    await this.running
  }

  private matters(event: DaemonEvent): boolean {
    if (event.type === 'task') return ENDED.has(event.status)
    return event.type === 'resource' && WATCHED.has(event.kind)
  }

  /**
   * A check on the next turn of the event loop rather than inside the emit:
   * the change that emitted may still be in a transaction, and a burst of
   * events makes one check.
   */
  private soon(): void {
    if (this.queued || this.stopped) return
    this.queued = setImmediate(() => {
      this.queued = undefined
      void this.check()
    })
  }

  private async loop(): Promise<void> {
    do {
      this.again = false
      if (this.stopped) return
      try {
        await this.once()
      } catch (err) {
        this.ctx.log.error(`health: the check failed: ${(err as Error).message}`)
      }
    } while (this.again)
  }

  private async once(): Promise<void> {
    const now = this.ctx.clock.now()
    const found = await this.compute(now)
    if (this.stopped) return
    const next = new Map<string, HealthSignal>()
    for (const signal of found) {
      const since = this.raised.get(signal.id)?.since ?? toIso(now)
      next.set(signal.id, { ...signal, since })
    }
    const raised = [...next.values()].filter((s) => !this.raised.has(s.id))
    const cleared = [...this.raised.values()].filter((s) => !next.has(s.id))
    this.repo.replace(
      [...next.values()].map((s) => ({
        id: s.id,
        since: Date.parse(s.since),
        signal: JSON.stringify(s),
      })),
    )
    this.raised = next
    this.checkedAt = now
    for (const signal of cleared) {
      this.ctx.log.info(
        `health: cleared ${signal.signal} of ${signal.subject.kind} "${signal.subject.name}"`,
      )
      this.ctx.events.emit({ type: 'health', state: 'cleared', signal })
    }
    for (const signal of raised) {
      this.ctx.log.warn(`health: ${signal.signal}: ${signal.message}`)
      this.ctx.events.emit({ type: 'health', state: 'raised', signal })
    }
  }

  private async compute(now: number): Promise<FoundSignal[]> {
    const repo = this.repo
    const catalog = this.ctx.catalog
    const jobs = catalog.listJobs()
    const valid = repo.validByJob()
    const names = new Map(jobs.map((j) => [j.uuid, j.name]))
    const found: FoundSignal[] = []
    const kinds: [HealthSignalKind, () => FoundSignal[] | Promise<FoundSignal[]>][] = [
      ['stale', () => staleSignals(jobs, valid, now)],
      ['shrunk', () => shrunkSignals(valid, names)],
      ['verify-overdue', () => verifyOverdueSignals(jobs, valid, repo.lastVerified(), now)],
      ['invalid', () => invalidSignals(repo.invalidArchives())],
      [
        'low-space',
        () =>
          lowSpaceSignals(
            catalog.stores.where({}),
            {
              storedBytes: (uuid) => repo.storedBytes(uuid),
              filesystem: this.opts.filesystem ?? filesystemOf,
              warn: (line) => this.ctx.log.warn(line),
            },
            { lowSpaceBytes: (this.opts.lowSpaceBytes ?? lowSpaceFromEnv)() },
          ),
      ],
    ]
    for (const [kind, compute] of kinds) {
      try {
        found.push(...(await compute()))
      } catch (err) {
        // One check that cannot run must not clear what it raised before.
        this.ctx.log.error(`health: cannot check ${kind}: ${(err as Error).message}`)
        found.push(...[...this.raised.values()].filter((s) => s.signal === kind))
      }
    }
    return found
  }
}
