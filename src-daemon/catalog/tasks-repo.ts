// Tasks and their logs. The queue's state lives here, so a restart finds every
// pending task again and every task that was running when the daemon died.
import type { TaskOp, TaskStatus } from '../contract'
import type { Db } from './db'
import type { TaskLogRow, TaskRow } from './rows'
import { Table } from './table'

export interface TaskFilter {
  statuses?: TaskStatus[]
  op?: TaskOp
  job_uuid?: string
  archive_uuid?: string
  limit?: number
  /** Keyset paging: only tasks after this one in the list's order (newest first). */
  page_after?: { requested_at: number; rowid: number }
}

export class TasksRepo extends Table<TaskRow> {
  constructor(private readonly database: Db) {
    super(database, 'tasks')
  }

  list(filter: TaskFilter = {}): TaskRow[] {
    return this.listKeyed(filter).map(({ row_id: _rowid, ...row }) => row as TaskRow)
  }

  /** As list, each row with its rowid, which orders tasks requested in the same ms (a page's key). */
  listKeyed(filter: TaskFilter = {}): (TaskRow & { row_id: number })[] {
    const { where, params } = this.taskWhere(filter)
    const limit = filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''
    return this.database
      .prepare(
        `SELECT *, rowid AS row_id FROM tasks ${where} ORDER BY requested_at DESC, rowid DESC ${limit}`,
      )
      .all(params) as (TaskRow & { row_id: number })[]
  }

  /** How many tasks match the filter (its page and limit aside): a list's total. */
  countMatching(filter: TaskFilter = {}): number {
    const { where, params } = this.taskWhere({ ...filter, page_after: undefined })
    return (
      this.database.prepare(`SELECT COUNT(*) AS n FROM tasks ${where}`).get(params) as { n: number }
    ).n
  }

  private taskWhere(filter: TaskFilter): { where: string; params: Record<string, unknown> } {
    const conds: string[] = []
    const params: Record<string, unknown> = {}
    if (filter.statuses?.length) {
      conds.push(`status IN (${filter.statuses.map((_, i) => `@s${i}`).join(', ')})`)
      filter.statuses.forEach((s, i) => (params[`s${i}`] = s))
    }
    if (filter.op) {
      conds.push('op = @op')
      params.op = filter.op
    }
    if (filter.job_uuid) {
      conds.push('job_uuid = @job_uuid')
      params.job_uuid = filter.job_uuid
    }
    if (filter.archive_uuid) {
      conds.push('archive_uuid = @archive_uuid')
      params.archive_uuid = filter.archive_uuid
    }
    if (filter.page_after) {
      conds.push('(requested_at < @page_at OR (requested_at = @page_at AND rowid < @page_rowid))')
      params.page_at = filter.page_after.requested_at
      params.page_rowid = filter.page_after.rowid
    }
    return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params }
  }

  countByStatus(): Record<TaskStatus, number> {
    const counts: Record<TaskStatus, number> = {
      pending: 0,
      running: 0,
      canceled: 0,
      failed: 0,
      done: 0,
    }
    const rows = this.database
      .prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status')
      .all() as { status: TaskStatus; n: number }[]
    for (const r of rows) counts[r.status] = r.n
    return counts
  }

  /**
   * The next pending task to run: highest priority (0 first), then oldest,
   * skipping a job already running and an archive already being verified,
   * and keeping GC apart from every other task on the same store (it must
   * not delete what a running task uses).
   */
  nextPending(running: TaskRow[]): TaskRow | undefined {
    const busyJobs = new Set(running.map((t) => t.job_uuid).filter((j) => j !== null))
    const verifying = new Set(
      running.filter((t) => t.op === 'verify' && t.archive_uuid).map((t) => t.archive_uuid),
    )
    const busyStores = new Set<string | null>(
      running.map((t) => t.store_uuid).filter((s) => s !== null),
    )
    const collecting = new Set<string | null>(
      running.filter((t) => t.op === 'gc').map((t) => t.store_uuid),
    )
    const rows = this.database
      .prepare(
        `SELECT * FROM tasks WHERE status = 'pending' ORDER BY priority ASC, requested_at ASC, rowid ASC`,
      )
      .iterate() as IterableIterator<TaskRow>
    for (const row of rows) {
      if (row.job_uuid && busyJobs.has(row.job_uuid)) continue
      if (row.op === 'verify' && row.archive_uuid && verifying.has(row.archive_uuid)) continue
      if (row.store_uuid && collecting.has(row.store_uuid)) continue
      if (row.op === 'gc' && busyStores.has(row.store_uuid)) continue
      return row
    }
    return undefined
  }

  hasActiveBackup(jobUuid: string): boolean {
    return (
      this.database
        .prepare(
          `SELECT 1 FROM tasks WHERE job_uuid = ? AND op = 'backup' AND status IN ('pending', 'running') LIMIT 1`,
        )
        .get(jobUuid) !== undefined
    )
  }

  /** A verify of the archive that is queued or running, if any. */
  activeVerify(archiveUuid: string): TaskRow | undefined {
    return this.database
      .prepare(
        `SELECT * FROM tasks WHERE op = 'verify' AND archive_uuid = ? AND status IN ('pending', 'running')
         ORDER BY requested_at, rowid LIMIT 1`,
      )
      .get(archiveUuid) as TaskRow | undefined
  }

  /** Whether a task of this kind is queued or running for the store. */
  hasActive(op: string, storeUuid: string): boolean {
    return (
      this.database
        .prepare(
          `SELECT 1 FROM tasks WHERE op = ? AND store_uuid = ? AND status IN ('pending', 'running') LIMIT 1`,
        )
        .get(op, storeUuid) !== undefined
    )
  }

  /** Appends a line to the task's log; returns its seq (the task's lines are numbered from 1). */
  appendLog(taskUuid: string, at: number, line: string): number {
    const row = this.database
      .prepare(
        `INSERT INTO task_logs (task_uuid, seq, at, line)
         VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM task_logs WHERE task_uuid = ?), ?, ?)
         RETURNING seq`,
      )
      .get(taskUuid, taskUuid, at, line) as { seq: number }
    return row.seq
  }

  /** The seq of the task's last log line; 0 when it has none. */
  /** The seq of each task's last log line (0 for a task without one), in one query. */
  lastLogSeqs(taskUuids: string[]): Map<string, number> {
    const rows = this.database
      .prepare(
        `SELECT task_uuid, MAX(seq) AS seq FROM task_logs
         WHERE task_uuid IN (SELECT value FROM json_each(?)) GROUP BY task_uuid`,
      )
      .all(JSON.stringify(taskUuids)) as { task_uuid: string; seq: number }[]
    return new Map(rows.map((r) => [r.task_uuid, r.seq]))
  }

  lastLogSeq(taskUuid: string): number {
    const row = this.database
      .prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM task_logs WHERE task_uuid = ?')
      .get(taskUuid) as { seq: number }
    return row.seq
  }

  /** The task's log lines in order; with `since`, only those after that seq. */
  logs(taskUuid: string, since = 0): TaskLogRow[] {
    return this.database
      .prepare('SELECT * FROM task_logs WHERE task_uuid = ? AND seq > ? ORDER BY seq')
      .all(taskUuid, since) as TaskLogRow[]
  }
}
