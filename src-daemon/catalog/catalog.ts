// The catalog: one object holding the tables and the few queries that need
// more than one of them (usage by jobs, denormalised listings).
import type { Db } from './db'
import type {
  AgentRow,
  ArchiveRow,
  JobRow,
  RetentionRow,
  ScheduleRow,
  StoreRow,
  TargetRow,
  TaskRow,
} from './rows'
import { Table } from './table'
import { TasksRepo } from './tasks-repo'

/** Tables that jobs point at, with the jobs columns that do (a schedule may be a verify schedule too). */
export const JOB_REFERENCES = {
  targets: ['target_uuid'],
  stores: ['store_uuid'],
  schedules: ['schedule_uuid', 'verify_schedule_uuid'],
  retention: ['retention_uuid'],
} as const
export type ReferencedTable = keyof typeof JOB_REFERENCES

/** `uuid IN (…every job column pointing at the table…)`, NULLs left out so NOT IN works. */
function usedBy(table: ReferencedTable): string {
  return JOB_REFERENCES[table]
    .map((col) => `SELECT ${col} FROM jobs WHERE ${col} IS NOT NULL`)
    .join(' UNION ')
}

/**
 * The uuids of the archives retention keeps however old: per job, its newest
 * `keep_min` valid archives (newest by taken_at, ties as listArchives orders
 * them), `keep_min` from the job's retention policy as it is now.
 */
const KEPT_BY_RETENTION = `
  SELECT uuid FROM (
    SELECT ka.uuid, kr.keep_min,
      ROW_NUMBER() OVER (PARTITION BY ka.job_uuid ORDER BY ka.taken_at DESC, ka.uuid) AS newest
    FROM archives ka
    JOIN jobs kj ON kj.uuid = ka.job_uuid
    JOIN retention kr ON kr.uuid = kj.retention_uuid
    WHERE ka.status = 'valid'
  ) WHERE newest <= keep_min`

export interface JobListRow extends JobRow {
  retention_name: string
  expiry: number
  schedule_name: string
  timespec: string
  timezone: string
  store_name: string
  store_plugin: string
  store_endpoint: string
  target_name: string
  target_plugin: string
  target_endpoint: string
  last_run: number | null
  last_status: string | null
  verify_schedule_name: string | null
  verify_timespec: string | null
  verify_timezone: string | null
}

export interface ArchiveListRow extends ArchiveRow {
  store_name: string | null
  store_plugin: string | null
  store_endpoint: string | null
  target_name: string | null
  /** The plugin of the target as it is now (the archive's own target_plugin says what made it). */
  target_current_plugin: string | null
  target_endpoint: string | null
}

export interface JobFilter {
  target_uuid?: string
  store_uuid?: string
  schedule_uuid?: string
  retention_uuid?: string
  paused?: boolean
  uuid?: string
}

export interface ArchiveFilter {
  target_uuid?: string
  store_uuid?: string
  job_uuid?: string
  status?: string
  after?: number
  before?: number
  expired_by?: number
  /**
   * Leaves out the archives retention keeps past their expiry: the newest
   * `keep_min` valid ones of each job, by the job's retention policy (archives
   * of no job, or of a deleted one, are not kept this way).
   */
  skip_kept?: boolean
  limit?: number
  /** Keyset paging: only archives after this one in the list's order (newest first). */
  page_after?: { taken_at: number; uuid: string }
  uuid?: string
}

export interface VaultTotals {
  chunks: number
  stored_bytes: number
  archives: number
  logical_bytes: number
}

export class Catalog {
  readonly targets: Table<TargetRow>
  readonly stores: Table<StoreRow>
  readonly schedules: Table<ScheduleRow>
  readonly retention: Table<RetentionRow>
  readonly jobs: Table<JobRow>
  readonly archives: Table<ArchiveRow>
  readonly tasks: TasksRepo
  readonly agents: Table<AgentRow>

  constructor(readonly db: Db) {
    this.targets = new Table(db, 'targets')
    this.stores = new Table(db, 'stores')
    this.schedules = new Table(db, 'schedules')
    this.retention = new Table(db, 'retention')
    this.jobs = new Table(db, 'jobs')
    this.archives = new Table(db, 'archives')
    this.agents = new Table(db, 'agents')
    this.tasks = new TasksRepo(db)
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  /** The jobs that use a target, store, schedule or retention policy. */
  jobsUsing(table: ReferencedTable, uuid: string): { uuid: string; name: string }[] {
    const uses = JOB_REFERENCES[table].map((col) => `${col} = @uuid`).join(' OR ')
    return this.db
      .prepare(`SELECT uuid, name FROM jobs WHERE ${uses} ORDER BY name`)
      .all({ uuid }) as { uuid: string; name: string }[]
  }

  /** Rows of a referenced table, optionally only the (un)used ones and one plugin's. */
  listUsage<Row>(table: ReferencedTable, opts: { unused?: boolean; plugin?: string }): Row[] {
    const conds: string[] = []
    if (opts.unused !== undefined) {
      conds.push(`uuid ${opts.unused ? 'NOT IN' : 'IN'} (${usedBy(table)})`)
    }
    if (opts.plugin !== undefined) conds.push('plugin = @plugin')
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : ''
    return this.db
      .prepare(`SELECT * FROM ${table} ${where} ORDER BY name COLLATE NOCASE, uuid`)
      .all({ plugin: opts.plugin }) as Row[]
  }

  listJobs(filter: JobFilter = {}): JobListRow[] {
    const conds: string[] = []
    for (const key of [
      'uuid',
      'target_uuid',
      'store_uuid',
      'schedule_uuid',
      'retention_uuid',
    ] as const) {
      if (filter[key] !== undefined) conds.push(`j.${key} = @${key}`)
    }
    if (filter.paused !== undefined) conds.push(`j.paused = ${filter.paused ? 1 : 0}`)
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : ''
    return this.db
      .prepare(
        `SELECT j.*,
           r.name AS retention_name, r.expiry AS expiry,
           s.name AS schedule_name, s.timespec AS timespec, s.timezone AS timezone,
           st.name AS store_name, st.plugin AS store_plugin, st.endpoint AS store_endpoint,
           t.name AS target_name, t.plugin AS target_plugin, t.endpoint AS target_endpoint,
           lt.requested_at AS last_run, lt.status AS last_status,
           vs.name AS verify_schedule_name, vs.timespec AS verify_timespec,
           vs.timezone AS verify_timezone
         FROM jobs j
         JOIN retention r ON r.uuid = j.retention_uuid
         JOIN schedules s ON s.uuid = j.schedule_uuid
         LEFT JOIN schedules vs ON vs.uuid = j.verify_schedule_uuid
         JOIN stores st ON st.uuid = j.store_uuid
         JOIN targets t ON t.uuid = j.target_uuid
         LEFT JOIN tasks lt ON lt.uuid = (
           SELECT uuid FROM tasks WHERE job_uuid = j.uuid AND op = 'backup'
           ORDER BY requested_at DESC, rowid DESC LIMIT 1)
         ${where}
         ORDER BY j.name COLLATE NOCASE, j.uuid`,
      )
      .all(filter) as JobListRow[]
  }

  /** What a store's vault holds, as far as the catalog knows. */
  vaultTotals(storeUuid: string): VaultTotals {
    const chunks = this.db
      .prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(stored_size), 0) AS bytes FROM vault_chunks WHERE store_uuid = ?',
      )
      .get(storeUuid) as { n: number; bytes: number }
    const archives = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM archives
         WHERE store_uuid = ? AND status != 'purged'`,
      )
      .get(storeUuid) as { n: number; bytes: number }
    return {
      chunks: chunks.n,
      stored_bytes: chunks.bytes,
      archives: archives.n,
      logical_bytes: archives.bytes,
    }
  }

  /** The oldest pending or running task of this kind on the store, if any. */
  activeTask(op: TaskRow['op'], storeUuid: string): TaskRow | undefined {
    return this.db
      .prepare(
        `SELECT * FROM tasks WHERE op = ? AND store_uuid = ? AND status IN ('pending', 'running')
         ORDER BY requested_at, rowid LIMIT 1`,
      )
      .get(op, storeUuid) as TaskRow | undefined
  }

  /** Jobs with a backup into the store running right now. */
  runningBackupJobs(storeUuid: string): Set<string> {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT job_uuid FROM tasks
         WHERE op = 'backup' AND store_uuid = ? AND status = 'running' AND job_uuid IS NOT NULL`,
      )
      .all(storeUuid) as { job_uuid: string }[]
    return new Set(rows.map((r) => r.job_uuid))
  }

  listArchives(filter: ArchiveFilter = {}): ArchiveListRow[] {
    const where = this.archiveWhere(filter)
    const limit = filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''
    const params = {
      ...filter,
      page_after: undefined,
      page_taken_at: filter.page_after?.taken_at,
      page_uuid: filter.page_after?.uuid,
    }
    return this.db
      .prepare(
        `SELECT a.*,
           st.name AS store_name, st.plugin AS store_plugin, st.endpoint AS store_endpoint,
           t.name AS target_name, t.plugin AS target_current_plugin, t.endpoint AS target_endpoint
         FROM archives a
         LEFT JOIN stores st ON st.uuid = a.store_uuid
         LEFT JOIN targets t ON t.uuid = a.target_uuid
         ${where}
         ORDER BY a.taken_at DESC, a.uuid ${limit}`,
      )
      .all(params) as ArchiveListRow[]
  }

  /** How many archives match the filter (its page and limit aside): a list's total. */
  countArchives(filter: ArchiveFilter = {}): number {
    const { page_after: _page, limit: _limit, ...rest } = filter
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM archives a ${this.archiveWhere(rest)}`)
      .get(rest) as { n: number }
    return row.n
  }

  private archiveWhere(filter: ArchiveFilter): string {
    const conds: string[] = []
    for (const key of ['uuid', 'target_uuid', 'store_uuid', 'job_uuid', 'status'] as const) {
      if (filter[key] !== undefined) conds.push(`a.${key} = @${key}`)
    }
    if (filter.after !== undefined) conds.push('a.taken_at >= @after')
    if (filter.before !== undefined) conds.push('a.taken_at < @before')
    if (filter.expired_by !== undefined) conds.push('a.expires_at <= @expired_by')
    if (filter.skip_kept) conds.push(`a.uuid NOT IN (${KEPT_BY_RETENTION})`)
    if (filter.page_after) {
      conds.push(
        '(a.taken_at < @page_taken_at OR (a.taken_at = @page_taken_at AND a.uuid > @page_uuid))',
      )
    }
    return conds.length ? `WHERE ${conds.join(' AND ')}` : ''
  }
}
