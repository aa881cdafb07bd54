// The task queue: every backup, restore and purge is a row in `tasks`, so the
// queue survives restarts. Services enqueue; runners (registered by the engine)
// are woken to claim work, report progress and logs, and finish tasks.
import { randomUUID } from 'node:crypto'
import type { DaemonEvent, TaskOp, TaskStatus } from '../contract'
import type { Catalog } from '../catalog/catalog'
import type { TaskRow } from '../catalog/rows'
import type { Clock } from '../platform/clock'
import { toIso } from '../platform/clock'
import { redactor } from '../platform/redact'

export interface TaskSpec {
  op: TaskOp
  owner: string
  priority?: number
  job_uuid?: string | null
  archive_uuid?: string | null
  target_uuid?: string | null
  store_uuid?: string | null
  /** JSON, see tasks/task-params.ts. */
  params?: string | null
}

export type CancelOutcome = 'canceled' | 'stopping'

export class TaskQueue {
  private readonly running = new Map<string, AbortController>()
  private readonly wakers = new Set<() => void>()

  constructor(
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly emit: (event: DaemonEvent) => void,
  ) {}

  enqueue(spec: TaskSpec): TaskRow {
    const row: TaskRow = {
      uuid: randomUUID(),
      owner: spec.owner,
      op: spec.op,
      job_uuid: spec.job_uuid ?? null,
      archive_uuid: spec.archive_uuid ?? null,
      target_uuid: spec.target_uuid ?? null,
      store_uuid: spec.store_uuid ?? null,
      status: 'pending',
      priority: spec.priority ?? 50,
      requested_at: this.clock.now(),
      started_at: null,
      stopped_at: null,
      bytes: 0,
      progress: null,
      error: null,
      params: spec.params ?? null,
    }
    this.catalog.tasks.insert(row)
    this.log(row.uuid, `${spec.op} task requested by ${spec.owner}`)
    this.changed(row)
    for (const wake of this.wakers) wake()
    return row
  }

  /** A runner calls this to be told when new work arrives. */
  onWork(wake: () => void): () => void {
    this.wakers.add(wake)
    return () => this.wakers.delete(wake)
  }

  /** Claims the next runnable task (a job never runs twice at once) and marks it running. */
  claim(): { task: TaskRow; signal: AbortSignal } | undefined {
    return this.catalog.transaction(() => {
      const next = this.catalog.tasks.nextPending(
        this.catalog.tasks.list({ statuses: ['running'] }),
      )
      if (!next) return undefined
      const controller = new AbortController()
      this.running.set(next.uuid, controller)
      const started = { ...next, status: 'running' as const, started_at: this.clock.now() }
      this.catalog.tasks.update(next.uuid, { status: 'running', started_at: started.started_at })
      this.changed(started)
      return { task: started, signal: controller.signal }
    })
  }

  progress(uuid: string, bytes: number, progress: number | null): void {
    this.catalog.tasks.update(uuid, { bytes, progress })
    const task = this.catalog.tasks.get(uuid)
    if (task) this.changed(task)
  }

  /** Appends one line to the task's log, with secrets masked. */
  log(uuid: string, line: string): void {
    const at = this.clock.now()
    const clean = redactor.redact(line)
    const seq = this.catalog.tasks.appendLog(uuid, at, clean)
    this.emit({ type: 'task-log', uuid, seq, line: clean, at: toIso(at) })
  }

  finish(uuid: string, status: Exclude<TaskStatus, 'pending' | 'running'>, error?: string): void {
    this.running.delete(uuid)
    const patch = {
      status,
      stopped_at: this.clock.now(),
      error: error === undefined ? null : redactor.redact(error),
      ...(status === 'done' ? { progress: 1 } : {}),
    }
    this.catalog.tasks.update(uuid, patch)
    const task = this.catalog.tasks.get(uuid)
    if (task) this.changed(task)
  }

  /** Cancels a pending task at once, or asks a running one to stop. */
  cancel(task: TaskRow, by: string): CancelOutcome {
    if (task.status === 'pending') {
      this.log(task.uuid, `canceled by ${by} before it started`)
      this.finish(task.uuid, 'canceled')
      return 'canceled'
    }
    this.log(task.uuid, `cancel requested by ${by}`)
    this.running.get(task.uuid)?.abort(new Error(`canceled by ${by}`))
    return 'stopping'
  }

  isRunning(uuid: string): boolean {
    return this.running.has(uuid)
  }

  /** At start: tasks left running by a daemon that died are failed, with the reason; returns them. */
  failOrphans(): TaskRow[] {
    const orphans = this.catalog.tasks
      .list({ statuses: ['running'] })
      .filter((task) => !this.running.has(task.uuid))
    for (const task of orphans) {
      this.log(
        task.uuid,
        'the daemon stopped while this task was running; marked failed at restart',
      )
      this.finish(task.uuid, 'failed', 'the daemon stopped while this task was running')
    }
    return orphans
  }

  private changed(task: TaskRow): void {
    this.emit({
      type: 'task',
      uuid: task.uuid,
      status: task.status,
      progress: task.progress,
      bytes: task.bytes,
    })
  }
}
