// GET /metrics: the daemon's state in the Prometheus text format. A registry
// of its own (never prom-client's global one, so two daemons in one process
// stay apart) whose gauges are refilled from the catalog on every scrape, so
// a deleted job's series go with it. Labels name jobs and stores by name and
// uuid only: never an endpoint, never a secret.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { Catalog } from '../catalog/catalog'
import { jobFigures, storeFigures, type FinishedRun } from '../catalog/metrics-repo'
import type { HealthSignal } from '../contract/health'
import type { Clock } from '../platform/clock'

/** What the metrics need of the health service (services/health.ts), which may not be there. */
export interface HealthSource {
  current(): HealthSignal[]
}

export interface MetricsDeps {
  catalog: Catalog
  clock: Clock
  version: string
  /** Remote agents connected now. */
  agentsConnected?: () => number
}

const JOB = ['job_uuid', 'job_name'] as const
const STORE = ['store_uuid', 'store_name'] as const
const seconds = (ms: number) => ms / 1000

export class MetricsService {
  readonly registry = new Registry()
  private processMetrics = false
  private readonly g

  constructor(private readonly deps: MetricsDeps) {
    const gauge = (name: string, help: string, labelNames: readonly string[] = []) =>
      new Gauge({ name, help, labelNames, registers: [this.registry] })
    this.g = {
      lastSuccess: gauge(
        'bulwark_job_last_success_timestamp_seconds',
        'When the newest successful backup of the job ended (Unix time); 0 if it never succeeded.',
        JOB,
      ),
      lastFailure: gauge(
        'bulwark_job_last_failure_timestamp_seconds',
        'When the newest failed backup of the job ended (Unix time); 0 if it never failed.',
        JOB,
      ),
      lastDuration: gauge(
        'bulwark_job_last_duration_seconds',
        'How long the newest successful backup of the job took.',
        JOB,
      ),
      lastBytes: gauge(
        'bulwark_job_last_bytes',
        'Plaintext bytes of the archive the newest successful backup of the job made.',
        JOB,
      ),
      lastNewBytes: gauge(
        'bulwark_job_last_new_bytes',
        'Stored bytes the newest successful backup of the job added to its store (after deduplication).',
        JOB,
      ),
      runs: new Counter({
        name: 'bulwark_job_runs_total',
        help: 'Finished backups of the job, by outcome (done, failed, canceled).',
        labelNames: [...JOB, 'outcome'],
        registers: [this.registry],
      }),
      archiveAge: gauge(
        'bulwark_job_newest_valid_archive_age_seconds',
        'Age of the newest valid archive of the job (its recovery point); +Inf when it has none.',
        JOB,
      ),
      paused: gauge('bulwark_job_paused', '1 if the job is paused, else 0.', JOB),
      lastRestore: gauge(
        'bulwark_job_last_restore_duration_seconds',
        'How long the newest successful restore of an archive of the job took (recovery time).',
        JOB,
      ),
      storeBytes: gauge(
        'bulwark_store_bytes',
        'Bytes the store holds as the catalog knows: vault chunks (compressed, encrypted) plus whole-archive blobs.',
        STORE,
      ),
      storeLogical: gauge(
        'bulwark_store_logical_bytes',
        'Plaintext bytes of the archives in the store that are not purged.',
        STORE,
      ),
      storeRatio: gauge(
        'bulwark_store_dedup_ratio',
        'Logical bytes over stored bytes (deduplication and compression together); absent while the store holds nothing.',
        STORE,
      ),
      storeChunks: gauge('bulwark_store_chunks', 'Vault chunks in the store.', STORE),
      storeArchives: gauge(
        'bulwark_store_archives',
        'Archives in the store that are not purged.',
        STORE,
      ),
      queued: gauge('bulwark_tasks_queued', 'Tasks waiting to run.'),
      running: gauge('bulwark_tasks_running', 'Tasks running now.'),
      up: gauge('bulwark_up', '1: the daemon answered.'),
      build: gauge('bulwark_build_info', 'The running version, as a label; always 1.', ['version']),
      agents: gauge('bulwark_agents_connected', 'Remote agents connected to the daemon.'),
      health: gauge(
        'bulwark_health_signal',
        'A health signal the daemon raises now (stale, shrunk, low-space, verify-overdue, invalid); 1 while raised.',
        ['signal', 'severity', 'subject_kind', 'subject_uuid', 'subject_name'],
      ),
    }
  }

  /**
   * Adds prom-client's process metrics (CPU, memory, event-loop lag) as
   * bulwark_process_* and bulwark_nodejs_*. Called by the daemon that serves
   * /metrics, not by the constructor: services built only for a test or an
   * embedder start no event-loop monitor. CPU counts from this call on.
   */
  enableProcessMetrics(): void {
    if (this.processMetrics) return
    this.processMetrics = true
    collectDefaultMetrics({ register: this.registry, prefix: 'bulwark_' })
  }

  /** The text a scrape gets, with its content type; `health` when the health service exists. */
  async scrape(health?: HealthSource): Promise<{ contentType: string; text: string }> {
    // Filled in one synchronous step, so a concurrent scrape never sees half.
    this.fill(health?.current() ?? [])
    return { contentType: this.registry.contentType, text: await this.registry.metrics() }
  }

  private fill(signals: HealthSignal[]): void {
    const { catalog, clock, version } = this.deps
    const g = this.g
    for (const metric of Object.values(g)) metric.reset()
    const now = clock.now()
    for (const job of jobFigures(catalog)) {
      const l = { job_uuid: job.uuid, job_name: job.name }
      g.paused.set(l, job.paused ? 1 : 0)
      g.lastSuccess.set(l, job.lastSuccess ? seconds(job.lastSuccess.stopped_at) : 0)
      g.lastFailure.set(l, job.lastFailureAt !== undefined ? seconds(job.lastFailureAt) : 0)
      if (job.lastSuccess) {
        setDuration(g.lastDuration, l, job.lastSuccess)
        g.lastBytes.set(l, job.lastSuccess.bytes)
        if (job.lastSuccess.new_bytes !== null) g.lastNewBytes.set(l, job.lastSuccess.new_bytes)
      }
      for (const [outcome, n] of Object.entries(job.runs)) g.runs.inc({ ...l, outcome }, n)
      g.archiveAge.set(
        l,
        job.newestValidAt !== undefined ? Math.max(0, seconds(now - job.newestValidAt)) : Infinity,
      )
      if (job.lastRestore) setDuration(g.lastRestore, l, job.lastRestore)
    }
    for (const store of storeFigures(catalog)) {
      const l = { store_uuid: store.uuid, store_name: store.name }
      const stored = store.stored_bytes + store.whole_archive_bytes
      g.storeBytes.set(l, stored)
      g.storeLogical.set(l, store.logical_bytes)
      if (stored > 0) g.storeRatio.set(l, store.logical_bytes / stored)
      g.storeChunks.set(l, store.chunks)
      g.storeArchives.set(l, store.archives)
    }
    const tasks = catalog.tasks.countByStatus()
    g.queued.set(tasks.pending)
    g.running.set(tasks.running)
    g.up.set(1)
    g.build.set({ version }, 1)
    g.agents.set(this.deps.agentsConnected?.() ?? 0)
    for (const s of signals) {
      g.health.set(
        {
          signal: s.signal,
          severity: s.severity,
          subject_kind: s.subject.kind,
          subject_uuid: s.subject.uuid,
          subject_name: s.subject.name,
        },
        1,
      )
    }
  }
}

function setDuration(gauge: Gauge, labels: Record<string, string>, r: FinishedRun): void {
  if (r.started_at !== null) gauge.set(labels, Math.max(0, seconds(r.stopped_at - r.started_at)))
}
