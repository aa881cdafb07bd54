// Runs queued tasks, a few at a time. Each gets an AbortSignal (cancel or
// shutdown), a log that lands in the catalog, and ends done, failed or
// canceled with one line saying why.
import type { TaskRow } from '../catalog/rows'
import { runBackup } from './backup-task'
import { TaskFailure, type TaskEnv, type TaskHandler } from './env'
import { runPurge } from './purge-task'
import { runGc } from './gc-task'
import { runRestore } from './restore-task'
import { runVerify } from './verify-task'

const HANDLERS: Record<TaskRow['op'], TaskHandler> = {
  backup: runBackup,
  restore: runRestore,
  purge: runPurge,
  verify: runVerify,
  gc: runGc,
}

const SHUTDOWN = 'the daemon was stopped while this task was running'
/**
 * How long a task may take to stop once canceled (or the daemon stops)
 * before its worker is freed anyway: every task ends, even one whose plugin
 * ignores its signal.
 */
export const STOP_GRACE_MS = 10_000

export class TaskRunner {
  private readonly active = new Map<string, Promise<void>>()
  private stopping = false
  private unsubscribe: (() => void) | undefined
  private poll: NodeJS.Timeout | undefined
  private readonly shutdown = new AbortController()

  constructor(
    private readonly env: TaskEnv,
    private readonly concurrency = 2,
  ) {}

  start(): void {
    this.unsubscribe = this.env.queue.onWork(() => this.fill())
    // Also look now and then, in case work arrived while every slot was busy.
    this.poll = setInterval(() => this.fill(), 1000)
    this.poll.unref()
    this.fill()
  }

  /** Stops taking work, aborts running tasks (they end failed) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true
    this.unsubscribe?.()
    if (this.poll) clearInterval(this.poll)
    this.shutdown.abort(new Error(SHUTDOWN))
    await Promise.allSettled(this.active.values())
  }

  private fill(): void {
    while (!this.stopping && this.active.size < this.concurrency) {
      const claimed = this.env.queue.claim()
      if (!claimed) return
      const run = this.execute(claimed.task, claimed.signal).finally(() => {
        this.active.delete(claimed.task.uuid)
        this.fill()
      })
      this.active.set(claimed.task.uuid, run)
    }
  }

  private async execute(task: TaskRow, cancel: AbortSignal): Promise<void> {
    const { queue, log } = this.env
    const signal = AbortSignal.any([cancel, this.shutdown.signal])
    const ctx = { signal, log: (line: string) => queue.log(task.uuid, line) }
    log.info(`task ${task.uuid} (${task.op}) started`)
    try {
      const work = HANDLERS[task.op](task, ctx, this.env)
      await Promise.race([work, abandonedAfter(signal, work, (line) => queue.log(task.uuid, line))])
      if (signal.aborted) throw signal.reason
      queue.log(task.uuid, `${task.op} done`)
      queue.finish(task.uuid, 'done')
      log.info(`task ${task.uuid} (${task.op}) done`)
    } catch (err) {
      if (cancel.aborted) {
        // A backup canceled in its after hooks has an archive already complete, and keeps it.
        const kept =
          task.op === 'backup' ? this.env.catalog.tasks.get(task.uuid)?.archive_uuid : null
        queue.log(
          task.uuid,
          kept
            ? `backup canceled; its archive ${kept} was already complete and is kept`
            : `${task.op} canceled; nothing was kept`,
        )
        queue.finish(task.uuid, 'canceled')
        log.info(`task ${task.uuid} (${task.op}) canceled`)
        return
      }
      const reason = this.shutdown.signal.aborted ? SHUTDOWN : describe(err)
      const loud = task.op === 'restore' ? 'RESTORE FAILED' : `${task.op} failed`
      queue.log(task.uuid, `${loud}: ${reason}`)
      queue.finish(task.uuid, 'failed', reason)
      log.warn(`task ${task.uuid} (${task.op}) failed: ${reason}`)
      if (!(err instanceof TaskFailure) && !isPluginError(err))
        log.debug(String((err as Error)?.stack))
    }
  }
}

function isPluginError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'PluginError' || err.name === 'PluginAbortedError')
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return String(err)
}

/**
 * Rejects once the signal has been aborted for STOP_GRACE_MS while work is
 * still running (never otherwise); work's own outcome is then only logged.
 */
function abandonedAfter(
  signal: AbortSignal,
  work: Promise<void>,
  log: (line: string) => void,
): Promise<never> {
  return new Promise<never>((_, reject) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const onAbort = () => {
      timer = setTimeout(() => {
        if (settled) return
        log(
          `the task did not stop within ${STOP_GRACE_MS / 1000} s of being asked to; its worker is freed (what it was doing is abandoned)`,
        )
        reject(signal.reason ?? new Error('abandoned'))
      }, STOP_GRACE_MS)
    }
    work
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        settled = true
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      })
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
}
