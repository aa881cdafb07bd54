// What GET /metrics reports, read from the catalog in a few queries per
// scrape (one per kind of figure, never one per job): the outcome of each
// job's backups and restores, and what each store holds as far as the
// catalog knows. Nothing here reaches a store over the network.
import type { Catalog, VaultTotals } from './catalog'
import type { TaskStatus } from '../contract'

/** A finished task's times (ms) and, for a backup, its archive's figures. */
export interface FinishedRun {
  started_at: number | null
  stopped_at: number
  /** The archive's plaintext bytes (the task's bytes when the archive row lacks them). */
  bytes: number
  /** Stored bytes the archive added to its store (null: unknown, as for blobs and imports). */
  new_bytes: number | null
}

export interface JobFigures {
  uuid: string
  name: string
  paused: boolean
  lastSuccess?: FinishedRun
  /** When the newest failed backup ended (ms). */
  lastFailureAt?: number
  runs: Record<'done' | 'failed' | 'canceled', number>
  /** When the newest valid archive was taken (ms). */
  newestValidAt?: number
  /** The newest successful restore of one of the job's archives. */
  lastRestore?: FinishedRun
}

export interface StoreFigures extends VaultTotals {
  uuid: string
  name: string
  /** Stored bytes of its archives kept whole (blobs, plain), not as vault chunks. */
  whole_archive_bytes: number
}

/** Newest finished task of one op and status per job (rows of a window query). */
const NEWEST_PER_JOB = (op: string, status: TaskStatus, jobColumn: string) => `
  SELECT * FROM (
    SELECT ${jobColumn} AS job_uuid, t.started_at, t.stopped_at,
      COALESCE(a.size, t.bytes) AS bytes, a.new_bytes,
      ROW_NUMBER() OVER (PARTITION BY ${jobColumn}
                         ORDER BY t.stopped_at DESC, t.rowid DESC) AS newest
    FROM tasks t LEFT JOIN archives a ON a.uuid = t.archive_uuid
    WHERE t.op = '${op}' AND t.status = '${status}'
      AND ${jobColumn} IS NOT NULL AND t.stopped_at IS NOT NULL
  ) WHERE newest = 1`

type RunRow = FinishedRun & { job_uuid: string }

export function jobFigures(catalog: Catalog): JobFigures[] {
  const db = catalog.db
  const byJob = <T extends { job_uuid: string }>(rows: T[]) =>
    new Map(rows.map((r) => [r.job_uuid, r]))
  const success = byJob(
    db.prepare(NEWEST_PER_JOB('backup', 'done', 't.job_uuid')).all() as RunRow[],
  )
  const failure = byJob(
    db.prepare(NEWEST_PER_JOB('backup', 'failed', 't.job_uuid')).all() as RunRow[],
  )
  // A restore task names the archive, not the job: the archive says whose it is.
  const restore = byJob(
    db.prepare(NEWEST_PER_JOB('restore', 'done', 'a.job_uuid')).all() as RunRow[],
  )
  const newest = byJob(
    db
      .prepare(
        `SELECT job_uuid, MAX(taken_at) AS taken_at FROM archives
         WHERE status = 'valid' AND job_uuid IS NOT NULL GROUP BY job_uuid`,
      )
      .all() as { job_uuid: string; taken_at: number }[],
  )
  const counts = db
    .prepare(
      `SELECT job_uuid, status, COUNT(*) AS n FROM tasks
       WHERE op = 'backup' AND status IN ('done', 'failed', 'canceled') AND job_uuid IS NOT NULL
       GROUP BY job_uuid, status`,
    )
    .all() as { job_uuid: string; status: 'done' | 'failed' | 'canceled'; n: number }[]
  const jobs = db
    .prepare('SELECT uuid, name, paused FROM jobs ORDER BY name COLLATE NOCASE, uuid')
    .all() as { uuid: string; name: string; paused: number }[]
  return jobs.map((j) => {
    const runs = { done: 0, failed: 0, canceled: 0 }
    for (const c of counts) if (c.job_uuid === j.uuid) runs[c.status] = c.n
    return {
      uuid: j.uuid,
      name: j.name,
      paused: j.paused !== 0,
      lastSuccess: run(success.get(j.uuid)),
      lastFailureAt: failure.get(j.uuid)?.stopped_at,
      runs,
      newestValidAt: newest.get(j.uuid)?.taken_at,
      lastRestore: run(restore.get(j.uuid)),
    }
  })
}

const run = (row: RunRow | undefined): FinishedRun | undefined =>
  row && {
    started_at: row.started_at,
    stopped_at: row.stopped_at,
    bytes: row.bytes,
    new_bytes: row.new_bytes,
  }

export function storeFigures(catalog: Catalog): StoreFigures[] {
  const db = catalog.db
  // Archives not kept as vault chunks take their own stored bytes (or their size).
  const whole = new Map(
    (
      db
        .prepare(
          `SELECT store_uuid, COALESCE(SUM(COALESCE(stored_bytes, size, 0)), 0) AS bytes
           FROM archives WHERE status != 'purged' AND format != 'vault' GROUP BY store_uuid`,
        )
        .all() as { store_uuid: string; bytes: number }[]
    ).map((r) => [r.store_uuid, r.bytes]),
  )
  const stores = db
    .prepare('SELECT uuid, name FROM stores ORDER BY name COLLATE NOCASE, uuid')
    .all() as { uuid: string; name: string }[]
  return stores.map((s) => ({
    uuid: s.uuid,
    name: s.name,
    ...catalog.vaultTotals(s.uuid),
    whole_archive_bytes: whole.get(s.uuid) ?? 0,
  }))
}
