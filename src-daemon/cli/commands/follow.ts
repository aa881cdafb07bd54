// --follow: a task's log, live, until it is done, failed or canceled. The
// daemon's event stream (GET /v1/events) is opened before the task is read, so
// no line can fall between the two. Log lines are numbered (seq, from 1): the
// read says the seq of its last line (log_lines), and only events after it are
// printed. A dropped stream resumes where it was (the client sends
// Last-Event-ID); if the daemon cannot replay what was missed (a `reset`), the
// lines after the last one printed are read from the task's stored log.
// Ctrl-C stops following, never the task.
import type { DaemonEvent, Task, TaskStatus } from '../../contract'
import type { FlagSpec } from '../args'
import type { Context } from '../command'
import { CliError, EXIT_FAILED, EXIT_OK } from '../errors'
import type { Output } from '../output'
import { indentLog, isFinished, outcomeLine, printTask, statusText } from './task-view'

/** Ctrl-C while following: as a shell reports a command stopped by SIGINT. */
export const EXIT_INTERRUPTED = 130

export const followFlag: FlagSpec = {
  name: 'follow',
  aliases: ['f'],
  help: 'stream the log until the task ends (Ctrl-C stops following; the task keeps running)',
}

export const FOLLOW_DETAILS =
  'With --follow, the task and its log so far are printed, then new log lines as they come,\n' +
  'then how it ended; the exit status is 0 if it is done, 1 if it failed or was canceled.\n' +
  'Ctrl-C only stops following: the task keeps running in the daemon. With --json, one JSON\n' +
  'object per line: the task, then its events ({"type":"task-log","seq":…}, {"type":"task",…});\n' +
  'after a {"type":"reset"} event, the task again with the log lines that were missed.\n' +
  'The last line is the task event with its final status.'

type TaskEvent = Extract<DaemonEvent, { type: 'task' }>
type LogEvent = Extract<DaemonEvent, { type: 'task-log' }>

/** Pending, then running, then finished: an event from an earlier stage is stale. */
const STAGE: Record<TaskStatus, number> = {
  pending: 0,
  running: 1,
  done: 2,
  failed: 2,
  canceled: 2,
}

/** Text mode: log lines, and the status as one line redrawn in place on a terminal. */
class Display {
  private shown = ''
  private printed = { status: '', at: 0 }

  constructor(
    private readonly out: Output,
    task: Task,
  ) {
    // The task block above already shows where it stands: plain output starts quiet.
    this.printed = { status: task.status, at: Date.now() }
    if (out.tty) this.status(task)
  }

  log(e: LogEvent): void {
    this.text(`${e.at} ${e.line}`)
  }

  /** Log lines as the task's stored log has them. */
  text(log: string): void {
    if (!log) return
    this.clear()
    this.out.line(indentLog(log))
    if (this.shown) this.draw(this.shown)
  }

  status(t: Pick<Task, 'status' | 'bytes' | 'progress'>): void {
    if (isFinished(t.status)) return
    const text = `  ... ${statusText(t)}`
    if (this.out.tty) return this.draw(text)
    // Plain output (a pipe, a file): a line when the status changes, progress every 10 s.
    const now = Date.now()
    if (t.status !== this.printed.status || (t.bytes > 0 && now - this.printed.at >= 10_000)) {
      this.out.line(text)
      this.printed = { status: t.status, at: now }
    }
  }

  clear(): void {
    if (this.out.tty && this.shown) this.out.write('\r\x1b[K')
  }

  end(): void {
    this.clear()
    this.shown = ''
  }

  private draw(text: string): void {
    this.out.write(`\r\x1b[K${text}`)
    this.shown = text
  }
}

const asEvent = (t: Task): TaskEvent => ({
  type: 'task',
  uuid: t.uuid,
  status: t.status,
  progress: t.progress,
  bytes: t.bytes,
})

/**
 * Prints the task and follows it to its end; returns the exit status. `start`
 * names the task, or creates it (run, restore): it is called once the event
 * stream is open, so even a new task's first lines come as events.
 */
export async function followTask(ctx: Context, start: () => Promise<string>): Promise<number> {
  const controller = new AbortController()
  let interrupted = false
  const release = ctx.onInterrupt(() => {
    interrupted = true
    controller.abort()
  })
  let uuid = ''
  let status: TaskStatus | undefined
  try {
    const events = await ctx.client.subscribe(controller.signal)
    uuid = await start()
    const task = await ctx.client.getTask(uuid)
    status = task.status
    if (ctx.json) ctx.out.jsonLine(task)
    else await printTask(ctx, task, true)
    if (isFinished(task.status)) return finish(ctx, task)

    let last = task.log_lines
    const display = ctx.json ? undefined : new Display(ctx.out, task)
    /** Reads and prints the stored lines after the last one printed; returns the task. */
    const catchUp = async (): Promise<Task> => {
      const t = await ctx.client.getTask(uuid, { since: last })
      if (display) display.text(t.log)
      else ctx.out.jsonLine(t)
      last = Math.max(last, t.log_lines)
      return t
    }
    /** A status no older than the last: shown; true once the task has ended. */
    const onStatus = (e: TaskEvent): boolean => {
      if (status !== undefined && STAGE[e.status] < STAGE[status]) return false
      status = e.status
      if (display) display.status(e)
      else ctx.out.jsonLine(e)
      return isFinished(status)
    }
    try {
      for await (const e of events) {
        if (e.type === 'task-log' && e.uuid === uuid) {
          // A gap cannot happen on a resumed stream; were it to, the stored log fills it.
          if (e.seq > last + 1) await catchUp()
          if (e.seq <= last) continue
          last = e.seq
          if (display) display.log(e)
          else ctx.out.jsonLine(e)
        } else if (e.type === 'task' && e.uuid === uuid) {
          if (onStatus(e)) break
        } else if (e.type === 'reset') {
          if (!display) ctx.out.jsonLine(e)
          if (onStatus(asEvent(await catchUp()))) break
        }
      }
    } finally {
      display?.end()
    }
    if (interrupted) return stopped(ctx, uuid, status)
    const final = await ctx.client.getTask(uuid)
    if (!isFinished(final.status)) {
      throw new CliError(
        `the daemon closed its event stream while task ${uuid} is ${final.status}; ` +
          `follow it again with:  bulwark show task ${uuid} --follow`,
      )
    }
    // The stream ended before the final event: say how the task ended all the same.
    if (ctx.json && !isFinished(status)) ctx.out.jsonLine(asEvent(final))
    return finish(ctx, final, true)
  } catch (err) {
    // Stopped before the task was named or created: nothing to follow again.
    if (interrupted) return uuid ? stopped(ctx, uuid, status) : EXIT_INTERRUPTED
    throw err
  } finally {
    release()
    controller.abort()
  }
}

/** The outcome line (text) or the final task event (JSON, unless already printed). */
function finish(ctx: Context, task: Task, eventPrinted = false): number {
  if (ctx.json) {
    if (!eventPrinted) ctx.out.jsonLine(asEvent(task))
  } else {
    ctx.out.line(`\n${outcomeLine(task)}`)
  }
  return task.status === 'done' ? EXIT_OK : EXIT_FAILED
}

function stopped(ctx: Context, uuid: string, status: TaskStatus | undefined): number {
  const state = status === 'pending' ? 'stays queued' : 'keeps running'
  ctx.out.note(
    `\nStopped following; task ${uuid} ${state} in the daemon.\n` +
      `Follow it again with:  bulwark show task ${uuid} --follow`,
  )
  return EXIT_INTERRUPTED
}
