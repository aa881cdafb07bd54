// The raised health signals (migration 010), as the health service last
// computed them. The service replaces the whole set after each check; it is
// small (one row per raised signal).
import type { Db } from './db'

/** A valid archive of a job, as the health checks need it. */
export interface JobArchive {
  uuid: string
  job_uuid: string
  target_uuid: string
  taken_at: number
  size: number | null
}

/** An archive verify marked invalid, with what names it for a person. */
export interface InvalidArchive {
  uuid: string
  job_uuid: string | null
  job_name: string | null
  store_uuid: string
  store_name: string | null
  origin_target_name: string | null
  taken_at: number
}

export interface HealthRow {
  id: string
  since: number
  /** The signal as JSON. */
  signal: string
}

export class HealthRepo {
  constructor(private readonly db: Db) {}

  all(): HealthRow[] {
    return this.db.prepare('SELECT * FROM health_signals ORDER BY since, id').all() as HealthRow[]
  }

  /** Makes the table hold exactly these rows, in one transaction. */
  replace(rows: HealthRow[]): void {
    const insert = this.db.prepare(
      'INSERT INTO health_signals (id, since, signal) VALUES (@id, @since, @signal)',
    )
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM health_signals').run()
      for (const row of rows) insert.run(row)
    })()
  }

  /** Every valid archive of a job (deleted jobs' too), per job oldest first. */
  validByJob(): Map<string, JobArchive[]> {
    const rows = this.db
      .prepare(
        `SELECT uuid, job_uuid, target_uuid, taken_at, size FROM archives
         WHERE status = 'valid' AND job_uuid IS NOT NULL
         ORDER BY job_uuid, taken_at, uuid`,
      )
      .all() as JobArchive[]
    const byJob = new Map<string, JobArchive[]>()
    for (const row of rows) {
      const list = byJob.get(row.job_uuid)
      if (list) list.push(row)
      else byJob.set(row.job_uuid, [row])
    }
    return byJob
  }

  /** When each archive was last verified intact (a verify task that succeeded), by archive uuid. */
  lastVerified(): Map<string, number> {
    const rows = this.db
      .prepare(
        `SELECT archive_uuid, MAX(stopped_at) AS at FROM tasks
         WHERE op = 'verify' AND status = 'done' AND archive_uuid IS NOT NULL
           AND stopped_at IS NOT NULL
         GROUP BY archive_uuid`,
      )
      .all() as { archive_uuid: string; at: number }[]
    return new Map(rows.map((r) => [r.archive_uuid, r.at]))
  }

  invalidArchives(): InvalidArchive[] {
    return this.db
      .prepare(
        `SELECT a.uuid, a.job_uuid, j.name AS job_name, a.store_uuid, st.name AS store_name,
           a.origin_target_name, a.taken_at
         FROM archives a
         LEFT JOIN jobs j ON j.uuid = a.job_uuid
         LEFT JOIN stores st ON st.uuid = a.store_uuid
         WHERE a.status = 'invalid'
         ORDER BY a.taken_at, a.uuid`,
      )
      .all() as InvalidArchive[]
  }

  /**
   * The bytes a store holds as far as the catalog knows: its vault's chunks,
   * plus the archives kept outside the vault's chunks (older plain blobs and
   * single sealed blobs) that are not purged.
   */
  storedBytes(storeUuid: string): number {
    const chunks = this.db
      .prepare('SELECT COALESCE(SUM(stored_size), 0) AS n FROM vault_chunks WHERE store_uuid = ?')
      .get(storeUuid) as { n: number }
    const blobs = this.db
      .prepare(
        `SELECT COALESCE(SUM(COALESCE(stored_bytes, size)), 0) AS n FROM archives
         WHERE store_uuid = ? AND status != 'purged' AND format != 'vault'`,
      )
      .get(storeUuid) as { n: number }
    return chunks.n + blobs.n
  }
}
