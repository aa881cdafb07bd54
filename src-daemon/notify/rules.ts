// The rules: which daemon events become which notices, for which channels.
// Listens on the event bus; for a task that started or ended it looks the
// task up in the catalog, builds one notice and hands it to the courier for
// each enabled channel whose events and jobs match. A job that keeps failing
// is announced once, then again only after the channel's reminder_hours (0:
// never), and once when it recovers; that state is kept per channel and job
// in the catalog, so a restart does not announce it again. Healthchecks
// channels are pinged on every run instead: they are monitors, not people.
// Who a notice concerns (jobs, matching channels) is looked up in audience.ts.
import type { DaemonEvent, HealthSignal, NotifyEvent, TaskStatus } from '../contract'
import type { Catalog } from '../catalog/catalog'
import type { ChannelRow, ChannelsRepo } from '../catalog/channels-repo'
import type { TaskRow } from '../catalog/rows'
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import { redactor } from '../platform/redact'
import {
  eventsOf,
  jobOfSignal,
  jobsOfSignal,
  jobsOfTask,
  matchingChannels,
  taskContext,
} from './audience'
import { Courier } from './delivery'
import { decideBackup } from './failure-once'
import { healthNotice, taskNotice, type TaskContext } from './notices'
import type { Notice } from '../contract/notifications'

/** The daemon's event bus, as the rules use it (services/events.ts). */
export interface EventSource {
  subscribe(fn: (event: DaemonEvent) => void): () => void
  emit(event: DaemonEvent): void
}

/** What the rules need of the channels (services/channels.ts provides it). */
export interface ChannelDirectory {
  readonly repo: ChannelsRepo
  /** A channel's settings with its secrets, for a delivery. */
  settingsFor(row: ChannelRow): Record<string, unknown>
  setDaemonUrl(url: () => string | null): void
}

export interface NotifyRulesDeps {
  events: EventSource
  catalog: Catalog
  channels: ChannelDirectory
  clock: Clock
  log: Logger
  /** The daemon's URL for links in notices, once it listens. */
  url: () => string
  /** Waits before each retry (default 2 s, 10 s, 60 s; BULWARK_NOTIFY_RETRY_MS). */
  retryMs?: number[]
  /** How long one attempt may take (default 15 s). */
  timeoutMs?: number
}

/** Finished tasks remembered so a repeated event never notifies twice. */
const SEEN_LIMIT = 1000

const ENDED: TaskStatus[] = ['done', 'failed']

export class NotifyRules {
  private readonly courier: Courier
  private unsubscribe: (() => void) | undefined
  private readonly started = new Set<string>()
  private readonly ended = new Set<string>()

  constructor(private readonly deps: NotifyRulesDeps) {
    deps.channels.setDaemonUrl(() => deps.url() || null)
    this.courier = new Courier({
      repo: deps.channels.repo,
      settingsFor: (row) => deps.channels.settingsFor(row),
      clock: deps.clock,
      log: deps.log,
      changed: (uuid) =>
        deps.events.emit({ type: 'resource', kind: 'channel', uuid, action: 'updated' }),
      retryMs: deps.retryMs,
      timeoutMs: deps.timeoutMs,
    })
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribe((event) => {
      // Whatever goes wrong here is logged: the bus and the task never see it.
      try {
        this.onEvent(event)
      } catch (err) {
        this.deps.log.error(
          `notify: could not handle a ${event.type} event: ${redactor.redact(String((err as Error)?.stack ?? err))}`,
        )
      }
    })
  }

  /** Tasks that ended before start() subscribed (failed at start as orphans of the last daemon). */
  endedBeforeStart(uuids: string[]): void {
    for (const uuid of uuids) {
      try {
        this.onTaskEnded(uuid)
      } catch (err) {
        this.deps.log.error(
          `notify: could not handle task ${uuid}: ${redactor.redact(String((err as Error)?.stack ?? err))}`,
        )
      }
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    await this.courier.stop()
  }

  private onEvent(event: DaemonEvent): void {
    if (event.type === 'task') {
      if (event.status === 'running') return this.onTaskRunning(event.uuid)
      this.started.delete(event.uuid)
      if (ENDED.includes(event.status)) this.onTaskEnded(event.uuid)
    } else if (event.type === 'health') {
      this.onHealth(event.state, event.signal)
    }
  }

  /** Progress events say "running" too: only the first one counts. */
  private onTaskRunning(uuid: string): void {
    if (this.started.has(uuid)) return
    this.started.add(uuid)
    const task = this.deps.catalog.tasks.get(uuid)
    if (!task || task.op !== 'backup') return
    const ctx = this.context(task)
    this.sendTo(
      this.matching('backup.started', this.jobsOf(ctx)),
      taskNotice('backup.started', ctx),
    )
  }

  private onTaskEnded(uuid: string): void {
    if (this.ended.has(uuid)) return
    this.ended.add(uuid)
    if (this.ended.size > SEEN_LIMIT) this.ended.delete(this.ended.values().next().value as string)
    const task = this.deps.catalog.tasks.get(uuid)
    if (!task) return
    const ctx = this.context(task)
    const failed = task.status === 'failed'
    switch (task.op) {
      case 'backup':
        return this.onBackupEnded(ctx, failed)
      case 'restore':
        return this.toAll(failed ? 'restore.failed' : 'restore.finished', ctx)
      case 'verify':
        return this.onVerifyEnded(ctx, failed)
      case 'purge':
        return failed ? this.toAll('purge.failed', ctx) : undefined
      case 'gc':
        return failed ? this.toAll('gc.failed', ctx) : undefined
    }
  }

  /** A notice that goes out, every time, to every channel that wants it. */
  private toAll(event: NotifyEvent, ctx: TaskContext): void {
    this.sendTo(this.matching(event, this.jobsOf(ctx)), taskNotice(event, ctx))
  }

  private onBackupEnded(ctx: TaskContext, failed: boolean): void {
    const job = ctx.job
    if (!job) return this.toAll(failed ? 'backup.failed' : 'backup.succeeded', ctx)
    const repo = this.deps.channels.repo
    const subject = `job:${job.uuid}`
    for (const channel of this.matching(null, [job.uuid])) {
      const row = repo.state(channel.uuid, subject)
      const state = row && {
        failing: row.failing === 1,
        since: row.since,
        notifiedAt: row.last_notified_at,
      }
      const rule = {
        events: eventsOf(channel),
        reminderHours: channel.reminder_hours,
        monitor: channel.kind === 'healthchecks',
      }
      const d = decideBackup(rule, state, failed, ctx.now)
      if (d.send) {
        const since = d.next?.since ?? state?.since
        this.courier.send(channel, taskNotice(d.send, { ...ctx, failingSince: since }, d.reminder))
      } else {
        this.deps.log.debug(
          `notify: channel "${channel.name}" not told that job "${job.name}" ${failed ? 'failed' : 'succeeded'} (${d.quiet})`,
        )
      }
      if (d.next) {
        repo.setState({
          channel_uuid: channel.uuid,
          subject,
          failing: d.next.failing ? 1 : 0,
          since: d.next.since,
          last_notified_at: d.next.notifiedAt,
        })
      }
    }
  }

  /**
   * Damage is announced once per archive and channel, whether the verify
   * task's end or the health signal 'invalid' comes first.
   */
  private onVerifyEnded(ctx: TaskContext, failed: boolean): void {
    const archive = ctx.task.archive_uuid
    if (!archive) return
    const subject = `archive:${archive}`
    if (!failed) return this.deps.channels.repo.clearState(subject)
    if (this.deps.catalog.archives.get(archive)?.status !== 'invalid') return
    this.damage(subject, this.jobsOf(ctx), taskNotice('verify.damage', ctx))
  }

  private damage(subject: string, jobs: string[] | null, notice: Notice): void {
    const repo = this.deps.channels.repo
    for (const channel of this.matching('verify.damage', jobs)) {
      if (repo.state(channel.uuid, subject)) {
        this.deps.log.debug(`notify: channel "${channel.name}" already told about ${subject}`)
        continue
      }
      repo.setState({
        channel_uuid: channel.uuid,
        subject,
        failing: 1,
        since: this.deps.clock.now(),
        last_notified_at: this.deps.clock.now(),
      })
      this.courier.send(channel, notice)
    }
  }

  /** A raised signal is announced once per channel while it stays raised (restarts included). */
  private onHealth(state: 'raised' | 'cleared', signal: HealthSignal): void {
    const damage = signal.signal === 'invalid'
    const subject = damage ? `archive:${signal.subject.uuid}` : `health:${signal.id}`
    const repo = this.deps.channels.repo
    if (state === 'cleared') return repo.clearState(subject)
    const job = jobOfSignal(this.deps.catalog, signal)
    const jobs = jobsOfSignal(this.deps.catalog, signal, job)
    const now = this.deps.clock.now()
    const event: NotifyEvent = damage ? 'verify.damage' : (`health.${signal.signal}` as NotifyEvent)
    const notice = healthNotice(event, signal, job, this.base(), now)
    if (damage) return this.damage(subject, jobs, notice)
    for (const channel of this.matching(event, jobs)) {
      if (repo.state(channel.uuid, subject)) continue
      repo.setState({
        channel_uuid: channel.uuid,
        subject,
        failing: 1,
        since: now,
        last_notified_at: now,
      })
      this.courier.send(channel, notice)
    }
  }

  private sendTo(channels: ChannelRow[], notice: Notice): void {
    for (const channel of channels) this.courier.send(channel, notice)
  }

  private base(): string | null {
    return this.deps.url() || null
  }

  /** Enabled channels that want the event (any, when null) for one of the jobs (null: any channel). */
  private matching(event: NotifyEvent | null, jobs: string[] | null): ChannelRow[] {
    return matchingChannels(this.deps.channels.repo, event, jobs)
  }

  private jobsOf(ctx: TaskContext): string[] | null {
    return jobsOfTask(this.deps.catalog, ctx)
  }

  private context(task: TaskRow): TaskContext {
    return taskContext(this.deps.catalog, task, this.base(), this.deps.clock.now())
  }
}
