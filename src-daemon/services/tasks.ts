// Tasks: list, show (with the log) and cancel the work the daemon does.
import {
  BulwarkError,
  ErrorCode,
  notFound,
  type Task,
  type TaskOp,
  type TaskStatus,
  type TasksFilter,
} from '../contract'
import type { TaskLogRow, TaskRow } from '../catalog/rows'
import type { TaskFilter } from '../catalog/tasks-repo'
import { toIso, toIsoOrNull } from '../platform/clock'
import type { CancelOutcome } from '../tasks/queue'
import type { ServiceContext } from './context'
import { decodeCursor, encodeCursor, pageOf, type Page } from './paging'

/** Tasks a list holds without a limit: the newest; older ones page on from its cursor. */
const DEFAULT_TASKS = 500

export class TaskService {
  constructor(private readonly ctx: ServiceContext) {}

  list(query: TasksFilter = {}): Task[] {
    return this.page(query).items
  }

  /** A page of the list (newest first); without a limit, the 500 newest from the cursor on. */
  page(query: TasksFilter = {}): Page<Task> {
    const statuses: TaskStatus[] | undefined =
      query.status === undefined || query.status === 'all'
        ? undefined
        : query.status === 'active'
          ? ['pending', 'running']
          : [query.status as TaskStatus]
    const filter: TaskFilter = {
      statuses,
      op: query.type as TaskOp | undefined,
      job_uuid: query.job,
      archive_uuid: query.archive,
    }
    const limit = query.limit === undefined ? DEFAULT_TASKS : Number(query.limit)
    const [at, rowid] = query.cursor === undefined ? [] : decodeCursor('tasks', query.cursor, 'nn')
    const rows = this.ctx.catalog.tasks.listKeyed({
      ...filter,
      limit: limit + 1,
      page_after:
        query.cursor === undefined
          ? undefined
          : { requested_at: at as number, rowid: rowid as number },
    })
    const last = this.ctx.catalog.tasks.lastLogSeqs(rows.map((r) => r.uuid))
    return pageOf(
      rows,
      limit,
      this.ctx.catalog.tasks.countMatching(filter),
      ({ row_id: _rowid, ...r }) => this.view(r, [], last.get(r.uuid) ?? 0),
      (r) => encodeCursor('tasks', [r.requested_at, r.row_id]),
    )
  }

  /** The task with its log; with `since`, only the log lines after that seq. */
  get(uuid: string, since = 0): Task {
    // One read for the text and the last seq, so that they agree.
    const lines = this.ctx.catalog.tasks.logs(uuid, since)
    return this.view(
      this.row(uuid),
      lines,
      lines.at(-1)?.seq ?? this.ctx.catalog.tasks.lastLogSeq(uuid),
    )
  }

  row(uuid: string): TaskRow {
    const row = this.ctx.catalog.tasks.get(uuid)
    if (!row) throw notFound('task', uuid)
    return row
  }

  cancel(uuid: string, by: string): CancelOutcome {
    const task = this.row(uuid)
    if (task.status !== 'pending' && task.status !== 'running') {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `task ${uuid} has already finished (${task.status}); there is nothing to cancel`,
      )
    }
    return this.ctx.queue.cancel(task, by)
  }

  /** The log as text, one "time line" per row. */
  logText(uuid: string): string {
    return logText(this.ctx.catalog.tasks.logs(uuid))
  }

  private view(r: TaskRow, lines: TaskLogRow[], logLines: number): Task {
    return {
      uuid: r.uuid,
      owner: r.owner,
      type: r.op,
      job_uuid: r.job_uuid,
      archive_uuid: r.archive_uuid,
      target_uuid: r.target_uuid,
      store_uuid: r.store_uuid,
      status: r.status,
      priority: r.priority,
      requested_at: toIso(r.requested_at),
      started_at: toIsoOrNull(r.started_at),
      stopped_at: toIsoOrNull(r.stopped_at),
      bytes: r.bytes,
      progress: r.progress,
      error: r.error,
      log: logText(lines),
      log_lines: logLines,
    }
  }
}

const logText = (lines: TaskLogRow[]) => lines.map((l) => `${toIso(l.at)} ${l.line}\n`).join('')
