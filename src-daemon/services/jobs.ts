// Over ~300 lines on purpose: a job's checks (its four references, the verify schedule) serve every use-case here.
// Jobs tie a target to a store on a schedule under a retention policy; running
// one (by hand or by the scheduler) enqueues a backup task. A job may also
// have a verify schedule, on which its newest valid archive is verified.
import { randomUUID } from 'node:crypto'
import {
  HOOK_PHASES,
  invalid,
  notFound,
  type Job,
  type JobHooksInput,
  type JobInput,
  type JobUpdateInput,
  type TaskStatus,
} from '../contract'
import type { JobFilter, JobListRow } from '../catalog/catalog'
import type { JobRow } from '../catalog/rows'
import type { TaskRow } from '../catalog/rows'
import { toIsoOrNull } from '../platform/clock'
import type { SchedulableJob } from '../scheduler/loop'
import { readHooks } from '../tasks/hooks'
import type { ArchiveService } from './archives'
import type { ServiceContext } from './context'
import type { PluginResourceService } from './plugin-resources'
import type { ScheduleService } from './schedules'
import { encodeParams, type BackupParams } from '../tasks/task-params'

export class JobService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly targets: PluginResourceService<'target'>,
    private readonly stores: PluginResourceService<'store'>,
    private readonly schedules: ScheduleService,
    private readonly archives: ArchiveService,
  ) {}

  list(filter: JobFilter = {}): Job[] {
    return this.ctx.catalog.listJobs(filter).map((r) => this.view(r))
  }

  get(uuid: string): Job {
    const row = this.ctx.catalog.listJobs({ uuid })[0]
    if (!row) throw notFound('job', uuid)
    return this.view(row)
  }

  row(uuid: string): JobRow {
    const row = this.ctx.catalog.jobs.get(uuid)
    if (!row) throw notFound('job', uuid)
    return row
  }

  create(input: JobInput): string {
    this.checkReferences(input)
    const hooks = storedHooks(input.hooks ?? {})
    const uuid = randomUUID()
    const now = this.ctx.clock.now()
    this.ctx.catalog.jobs.insert({
      uuid,
      name: input.name,
      summary: input.summary ?? '',
      target_uuid: input.target,
      store_uuid: input.store,
      schedule_uuid: input.schedule,
      retention_uuid: input.retention,
      priority: input.priority ?? 50,
      paused: input.paused ? 1 : 0,
      last_fired_at: null,
      verify_schedule_uuid: input.verify_schedule ?? null,
      last_verify_fired_at: null,
      hooks,
      rpo_seconds: input.rpo_seconds ?? null,
      created_at: now,
      updated_at: now,
    })
    this.ctx.events.emit({ type: 'resource', kind: 'job', uuid, action: 'created' })
    return uuid
  }

  update(uuid: string, input: JobUpdateInput): void {
    const existing = this.row(uuid)
    this.checkReferences(input)
    // Left out, the hooks stay (as the verify schedule does).
    const hooks = input.hooks === undefined ? {} : { hooks: storedHooks(input.hooks) }
    const now = this.ctx.clock.now()
    // Left out, the verify schedule stays; a new one counts its runs from now.
    const verify =
      input.verify_schedule === undefined || input.verify_schedule === existing.verify_schedule_uuid
        ? {}
        : { verify_schedule_uuid: input.verify_schedule, last_verify_fired_at: now }
    this.ctx.catalog.jobs.update(uuid, {
      name: input.name,
      summary: input.summary ?? '',
      target_uuid: input.target,
      store_uuid: input.store,
      schedule_uuid: input.schedule,
      retention_uuid: input.retention,
      priority: input.priority ?? existing.priority,
      ...verify,
      ...hooks,
      // Left out, the RPO stays.
      ...(input.rpo_seconds === undefined ? {} : { rpo_seconds: input.rpo_seconds }),
      updated_at: now,
    })
    this.ctx.events.emit({ type: 'resource', kind: 'job', uuid, action: 'updated' })
  }

  delete(uuid: string): void {
    this.row(uuid)
    this.ctx.catalog.jobs.delete(uuid)
    this.ctx.events.emit({ type: 'resource', kind: 'job', uuid, action: 'deleted' })
  }

  setPaused(uuid: string, paused: boolean): void {
    this.row(uuid)
    this.ctx.catalog.jobs.update(uuid, { paused: paused ? 1 : 0, updated_at: this.ctx.clock.now() })
    this.ctx.events.emit({ type: 'resource', kind: 'job', uuid, action: 'updated' })
  }

  /** Enqueues a backup of the job; the scheduler and ad hoc runs both come here. */
  run(uuid: string, owner: string, params: BackupParams = {}): TaskRow {
    const job = this.row(uuid)
    return this.ctx.queue.enqueue({
      op: 'backup',
      owner,
      priority: job.priority,
      job_uuid: job.uuid,
      target_uuid: job.target_uuid,
      store_uuid: job.store_uuid,
      params: encodeParams({ full_read: params.full_read || undefined }),
    })
  }

  /** The scheduler's run: skipped while the job's previous backup is still queued or running. */
  runScheduled(uuid: string): TaskRow | null {
    if (this.ctx.catalog.tasks.hasActiveBackup(uuid)) {
      const job = this.row(uuid)
      this.ctx.log.warn(
        `job "${job.name}" is due, but its previous backup has not finished; skipping this run`,
      )
      return null
    }
    return this.run(uuid, 'system')
  }

  /**
   * Scheduled backups the last daemon was running when it stopped: each job's
   * runs again once now, instead of waiting for its next slot (a laptop shut
   * down mid-backup, a server rebooted for updates).
   */
  rerunInterrupted(orphans: TaskRow[]): void {
    const jobs = new Set(
      orphans
        .filter((t) => t.op === 'backup' && t.owner === 'system' && t.job_uuid)
        .map((t) => t.job_uuid!),
    )
    for (const uuid of jobs) {
      const job = this.ctx.catalog.jobs.get(uuid)
      if (!job || job.paused) continue
      const task = this.runScheduled(uuid)
      if (task) {
        this.ctx.log.info(
          `job "${job.name}": its scheduled backup was cut short when the daemon stopped; running it again (task ${task.uuid})`,
        )
      }
    }
  }

  /**
   * The verify schedule's run: a verify of the job's newest valid archive.
   * Nothing is queued when the job has no valid archive, nor when that
   * archive's verify is already queued or running.
   */
  verifyScheduled(uuid: string): TaskRow | null {
    const job = this.row(uuid)
    const archive = this.ctx.catalog.listArchives({ job_uuid: uuid, status: 'valid', limit: 1 })[0]
    if (!archive) {
      this.ctx.log.info(
        `job "${job.name}" is due for a verify, but it has no valid archive; nothing to verify`,
      )
      return null
    }
    const active = this.ctx.catalog.tasks.activeVerify(archive.uuid)
    if (active) {
      this.ctx.log.info(
        `job "${job.name}" is due for a verify, but archive ${archive.uuid} is already being verified (task ${active.uuid}); skipping this one`,
      )
      return null
    }
    const task = this.archives.verify(archive.uuid, 'system')
    this.ctx.queue.log(
      task.uuid,
      `scheduled verify of job "${job.name}": its newest valid archive, ${archive.uuid}`,
    )
    return task
  }

  /** What the scheduler needs to know about every job. */
  schedulable(): SchedulableJob[] {
    return this.ctx.catalog.listJobs().map((r) => ({
      uuid: r.uuid,
      name: r.name,
      paused: r.paused === 1,
      when: r.timespec,
      timezone: r.timezone,
      anchor: r.last_fired_at ?? r.created_at,
      verify:
        r.verify_schedule_uuid === null || r.verify_timespec === null
          ? undefined
          : {
              when: r.verify_timespec,
              timezone: r.verify_timezone ?? this.ctx.timezone,
              anchor: r.last_verify_fired_at ?? r.created_at,
              fire: () => this.verifyScheduled(r.uuid),
              markFired: (at) => this.markVerifyFired(r.uuid, at),
            },
    }))
  }

  markFired(uuid: string, at: number): void {
    this.ctx.catalog.jobs.update(uuid, { last_fired_at: at })
  }

  markVerifyFired(uuid: string, at: number): void {
    this.ctx.catalog.jobs.update(uuid, { last_verify_fired_at: at })
  }

  private checkReferences(
    input: Pick<JobUpdateInput, 'target' | 'store' | 'schedule' | 'retention' | 'verify_schedule'>,
  ): void {
    const refs = [
      ['target', input.target, this.ctx.catalog.targets],
      ['store', input.store, this.ctx.catalog.stores],
      ['schedule', input.schedule, this.ctx.catalog.schedules],
      ['retention', input.retention, this.ctx.catalog.retention],
      ['verify_schedule', input.verify_schedule ?? null, this.ctx.catalog.schedules],
    ] as const
    for (const [field, uuid, table] of refs) {
      if (uuid !== null && !table.get(uuid)) {
        const what =
          field === 'retention'
            ? 'retention policy'
            : field === 'verify_schedule'
              ? 'schedule'
              : field
        throw invalid(field, `no ${what} with uuid ${uuid}`)
      }
    }
  }

  private view(r: JobListRow): Job {
    const next = r.paused ? null : this.schedules.nextRun(r.timespec, r.timezone)
    return {
      uuid: r.uuid,
      name: r.name,
      summary: r.summary,
      priority: r.priority,
      paused: r.paused === 1,
      retention_name: r.retention_name,
      retention_uuid: r.retention_uuid,
      expiry: r.expiry,
      schedule_name: r.schedule_name,
      schedule_uuid: r.schedule_uuid,
      schedule: r.timespec,
      timezone: r.timezone,
      next_run: toIsoOrNull(next),
      store_uuid: r.store_uuid,
      store_name: r.store_name,
      store_plugin: r.store_plugin,
      store_endpoint: this.stores.redacted({
        uuid: r.store_uuid,
        plugin: r.store_plugin,
        endpoint: r.store_endpoint,
      }),
      target_uuid: r.target_uuid,
      target_name: r.target_name,
      target_plugin: r.target_plugin,
      target_endpoint: this.targets.redacted({
        uuid: r.target_uuid,
        plugin: r.target_plugin,
        endpoint: r.target_endpoint,
      }),
      last_run: toIsoOrNull(r.last_run),
      last_status: (r.last_status as TaskStatus | null) ?? null,
      verify_schedule_uuid: r.verify_schedule_uuid,
      verify_schedule_name: r.verify_schedule_name,
      verify_schedule: r.verify_timespec,
      verify_timezone: r.verify_timezone,
      next_verify:
        r.paused || r.verify_timespec === null || r.verify_timezone === null
          ? null
          : toIsoOrNull(this.schedules.nextRun(r.verify_timespec, r.verify_timezone)),
      hooks: readHooks(r.hooks),
      rpo_seconds: r.rpo_seconds ?? null,
    }
  }
}

/** Hooks as the catalog keeps them (JSON, as given); a blank command is refused, naming it. */
function storedHooks(hooks: JobHooksInput): string {
  for (const phase of HOOK_PHASES) {
    for (const [i, hook] of (hooks[phase] ?? []).entries()) {
      if (!hook.command.trim())
        throw invalid(
          `hooks.${phase}[${i}].command`,
          `hooks.${phase}[${i}].command is blank; give the command to run, or remove the hook`,
        )
    }
  }
  return JSON.stringify(hooks)
}
