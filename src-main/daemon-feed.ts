// Follows one daemon for the tray: its jobs, the tasks running, the health
// signals raised, and the happenings the notification rules look at (a task
// that ended, with its details looked up; a health signal raised). Reads the
// event stream through the API client and asks the API for what events only
// name. The supervisor gives a new client whenever the daemon (re)starts.
import { EventEmitter } from 'node:events'
import type { BulwarkClient } from '../src-daemon/client'
import type { DaemonEvent, HealthSignal, Job } from '../src-daemon/contract'
import type { Happening } from './notification-rules'

interface Events {
  /** Jobs, running tasks or health changed: redraw the tray. */
  change: []
  happening: [Happening]
  /** Something went wrong reading the daemon; one line for the logs view. */
  problem: [string]
}

const ENDED = new Set(['done', 'failed', 'canceled'])

export class DaemonFeed extends EventEmitter<Events> {
  jobs: Job[] = []
  readonly running = new Set<string>()
  readonly health = new Map<string, HealthSignal>()
  private abort: AbortController | undefined
  private readonly told = new Set<string>()

  constructor(private readonly reconnectMs = 2000) {
    super()
  }

  /** Follows this daemon from now on (dropping the previous one); resolves once subscribed. */
  async connect(client: BulwarkClient): Promise<void> {
    this.disconnect()
    const abort = new AbortController()
    this.abort = abort
    const subscribed = new Promise<void>((resolve) => {
      void this.follow(client, abort.signal, resolve)
    })
    await subscribed
  }

  disconnect(): void {
    this.abort?.abort()
    this.abort = undefined
  }

  /** Reads the jobs again (after a change, or one the tray made). */
  async refreshJobs(client: BulwarkClient): Promise<void> {
    this.jobs = await client.listJobs()
    this.emit('change')
  }

  private async follow(client: BulwarkClient, signal: AbortSignal, subscribed: () => void) {
    while (!signal.aborted) {
      try {
        // Subscribe first, then read the state: nothing happens unseen in between.
        const events = await client.subscribe(signal)
        await this.load(client)
        subscribed()
        for await (const event of events) {
          // The daemon could not replay what a dropped connection missed: read it all again.
          if (event.type === 'reset') await this.load(client)
          else await this.apply(client, event)
        }
      } catch (err) {
        if (signal.aborted) return
        this.emit('problem', `the daemon's event stream broke: ${(err as Error).message}`)
      }
      if (signal.aborted) return
      await new Promise((r) => setTimeout(r, this.reconnectMs))
    }
  }

  private async load(client: BulwarkClient): Promise<void> {
    const [jobs, running] = await Promise.all([
      client.listJobs(),
      client.listTasks({ status: 'running' }),
    ])
    this.jobs = jobs
    this.running.clear()
    for (const t of running) this.running.add(t.uuid)
    this.health.clear()
    try {
      for (const s of (await client.getHealth()).signals) this.health.set(s.id, s)
    } catch {
      // a daemon without health signals yet: the tray does without
    }
    this.emit('change')
  }

  private async apply(client: BulwarkClient, event: DaemonEvent): Promise<void> {
    if (event.type === 'resource' && event.kind === 'job') {
      await this.refreshJobs(client)
    } else if (event.type === 'task') {
      if (!ENDED.has(event.status)) {
        if (event.status === 'running' && !this.running.has(event.uuid)) {
          this.running.add(event.uuid)
          this.emit('change')
        }
        return
      }
      this.running.delete(event.uuid)
      if (this.told.has(event.uuid)) return
      this.told.add(event.uuid)
      const task = await client.getTask(event.uuid)
      // The job's last result changed with it.
      await this.refreshJobs(client)
      // A restore or verify names its archive, not its job: the archive knows the job.
      let jobUuid = task.job_uuid
      if (!jobUuid && task.archive_uuid) {
        jobUuid = await client.getArchive(task.archive_uuid).then(
          (a) => a.job_uuid,
          () => null,
        )
      }
      const job = this.jobs.find((j) => j.uuid === jobUuid)
      this.emit('happening', { kind: 'task-ended', task, jobName: job?.name ?? null })
    } else if (event.type === 'health') {
      if (event.state === 'raised') this.health.set(event.signal.id, event.signal)
      else this.health.delete(event.signal.id)
      this.emit('change')
      this.emit('happening', { kind: 'health', event })
    }
  }
}
