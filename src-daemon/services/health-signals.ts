// The health signals that follow from the catalog alone (stale jobs, shrunk
// and invalid archives, overdue verifies), computed from plain rows and a
// time so they can be checked without a daemon. The service (health.ts) adds
// `since` and keeps them; free space is health-space.ts.
import type { InvalidArchive, JobArchive } from '../catalog/health-repo'
import type { HealthSignal } from '../contract'
import { toIso } from '../platform/clock'
import { nextRuns } from '../scheduler/timespec'
import { formatBytes } from '../tasks/progress'

/** A signal before the service gives it the time it was first seen. */
export type FoundSignal = Omit<HealthSignal, 'since'>

/** A job as the checks need it (a row of Catalog.listJobs). */
export interface HealthJob {
  uuid: string
  name: string
  paused: number
  created_at: number
  timespec: string
  timezone: string
  last_status: string | null
  verify_timespec: string | null
  verify_timezone: string | null
  /** The job's RPO in seconds; null: PERIODS_ALLOWED times its schedule's period. */
  rpo_seconds?: number | null
}

/** Stale and verify-overdue: more than this many periods without an archive (a verify). */
export const PERIODS_ALLOWED = 2
/** Shrunk: smaller than this share of the median of the archives before it. */
export const SHRUNK_RATIO = 0.5
/** Shrunk: the median is of at most this many valid archives before it. */
export const SHRUNK_WINDOW = 5
/** Shrunk: an archive is judged only with at least this many valid archives before it. */
export const SHRUNK_MIN_HISTORY = 3
/** How many upcoming runs a schedule's period is read from (see periodOf). */
const PERIOD_RUNS = 8

/**
 * A schedule's period: the longest gap between its next runs after `from`,
 * so a schedule on weekdays only is not late on a Monday morning, nor one on
 * the 3rd Tuesday in a five-week month. Null for a schedule that cannot be
 * read (the API refuses to save one) or never runs twice.
 */
export function periodOf(when: string, timezone: string, from: number): number | null {
  let runs: Date[]
  try {
    runs = nextRuns(when, timezone, new Date(from), PERIOD_RUNS)
  } catch {
    return null
  }
  let longest = 0
  for (let i = 1; i < runs.length; i++) {
    longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime())
  }
  return longest > 0 ? longest : null
}

/** "3 days", "26 hours", "45 minutes": a duration as a person reads it. */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000)
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = Math.round(ms / 3_600_000)
  if (hours < 48) return `${hours} hours`
  return `${Math.round(ms / 86_400_000)} days`
}

/** "2026-12-07 15:22 UTC" */
const shortDate = (ms: number): string => `${toIso(ms).slice(0, 16).replace('T', ' ')} UTC`

/** How an archive is named in a signal: its job and when it was taken. */
export const archiveName = (job: string, takenAt: number): string => `${job} ${shortDate(takenAt)}`

const seconds = (ms: number) => Math.round(ms / 1000)

/** Jobs (not paused) with no valid archive for longer than twice their schedule's period. */
export function staleSignals(
  jobs: HealthJob[],
  valid: Map<string, JobArchive[]>,
  now: number,
): FoundSignal[] {
  const found: FoundSignal[] = []
  for (const job of jobs) {
    if (job.paused) continue
    const newest = valid.get(job.uuid)?.at(-1)
    const from = newest?.taken_at ?? job.created_at
    const period = periodOf(job.timespec, job.timezone, from)
    const rpo = job.rpo_seconds ? job.rpo_seconds * 1000 : null
    if (period === null && rpo === null) continue
    const age = now - from
    if (age <= (rpo ?? PERIODS_ALLOWED * period!)) continue
    const failed = job.last_status === 'failed' ? '; its last backup failed' : ''
    const what = newest
      ? `has had no valid archive for ${formatDuration(age)}`
      : `has not made a valid archive in the ${formatDuration(age)} since it was created`
    found.push({
      id: `stale:job:${job.uuid}`,
      signal: 'stale',
      severity: 'failure',
      subject: { kind: 'job', uuid: job.uuid, name: job.name },
      message:
        `Job "${job.name}" ${what}, while ` +
        (rpo !== null
          ? `its recovery point objective is ${formatDuration(rpo)}`
          : `its schedule "${job.timespec}" runs every ${formatDuration(period!)}`) +
        `${failed}: look at its last tasks, fix the cause and run it.`,
      details: {
        age_seconds: seconds(age),
        period_seconds: period === null ? null : seconds(period),
        rpo_seconds: job.rpo_seconds ?? null,
        newest_archive: newest?.uuid ?? null,
        newest_taken_at: newest ? toIso(newest.taken_at) : null,
        last_status: job.last_status,
      },
    })
  }
  return found
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Archives much smaller than the valid archives of the same job and target
 * before them. Only the newest run of shrunk archives of a job is listed: one
 * that is not shrunk after them means the data is back (or the smaller size
 * is the new normal), and clears them.
 */
export function shrunkSignals(
  valid: Map<string, JobArchive[]>,
  jobNames: Map<string, string>,
): FoundSignal[] {
  const found: FoundSignal[] = []
  for (const [jobUuid, archives] of valid) {
    const run: FoundSignal[] = []
    // The sizes of the last SHRUNK_WINDOW archives of each target, oldest first.
    const recent = new Map<string, number[]>()
    for (const archive of archives) {
      if (archive.size === null) continue
      const before = recent.get(archive.target_uuid) ?? []
      const typical = before.length >= SHRUNK_MIN_HISTORY ? median(before) : null
      recent.set(archive.target_uuid, [...before, archive.size].slice(-SHRUNK_WINDOW))
      if (typical === null || archive.size >= SHRUNK_RATIO * typical) {
        run.length = 0
        continue
      }
      const job = jobNames.get(jobUuid) ?? 'a deleted job'
      const name = archiveName(job, archive.taken_at)
      run.push({
        id: `shrunk:archive:${archive.uuid}`,
        signal: 'shrunk',
        severity: 'warning',
        subject: { kind: 'archive', uuid: archive.uuid, name },
        message:
          `Archive ${name} is ${formatBytes(archive.size)}, less than half the median ` +
          `${formatBytes(typical)} of the ${before.length} before it: check that the target ` +
          `still holds all its data and that the dump did not silently lose some.`,
        details: {
          size: archive.size,
          median: typical,
          compared: before.length,
          job_uuid: jobUuid,
          taken_at: toIso(archive.taken_at),
        },
      })
    }
    found.push(...run)
  }
  return found
}

/**
 * Jobs with a verify schedule whose newest valid archive has not been
 * verified intact for more than twice that schedule's period: counted from
 * when it was taken, or from its last successful verify (an archive must keep
 * being verified while it is the newest).
 */
export function verifyOverdueSignals(
  jobs: HealthJob[],
  valid: Map<string, JobArchive[]>,
  lastVerified: Map<string, number>,
  now: number,
): FoundSignal[] {
  const found: FoundSignal[] = []
  for (const job of jobs) {
    if (job.paused || !job.verify_timespec || !job.verify_timezone) continue
    const newest = valid.get(job.uuid)?.at(-1)
    if (!newest) continue
    const verified = lastVerified.get(newest.uuid)
    const from = Math.max(newest.taken_at, verified ?? 0)
    const period = periodOf(job.verify_timespec, job.verify_timezone, from)
    if (period === null) continue
    const age = now - from
    if (age <= PERIODS_ALLOWED * period) continue
    const name = archiveName(job.name, newest.taken_at)
    const since = verified
      ? `was last verified ${formatDuration(age)} ago`
      : `has not been verified in the ${formatDuration(age)} since it was taken`
    found.push({
      id: `verify-overdue:job:${job.uuid}`,
      signal: 'verify-overdue',
      severity: 'warning',
      subject: { kind: 'job', uuid: job.uuid, name: job.name },
      message:
        `The newest archive of job "${job.name}" (${name}) ${since}, while its verify ` +
        `schedule "${job.verify_timespec}" runs every ${formatDuration(period)}: look at the ` +
        `job's verify tasks, or verify the archive now.`,
      details: {
        archive_uuid: newest.uuid,
        taken_at: toIso(newest.taken_at),
        last_verified: verified === undefined ? null : toIso(verified),
        age_seconds: seconds(age),
        period_seconds: seconds(period),
      },
    })
  }
  return found
}

/** Archives verify found damaged. */
export function invalidSignals(archives: InvalidArchive[]): FoundSignal[] {
  return archives.map((a) => {
    const name = archiveName(a.job_name ?? a.origin_target_name ?? 'archive', a.taken_at)
    return {
      id: `invalid:archive:${a.uuid}`,
      signal: 'invalid',
      severity: 'failure',
      subject: { kind: 'archive', uuid: a.uuid, name },
      message:
        `Archive ${name} failed verification: data in store "${a.store_name ?? a.store_uuid}" ` +
        `is missing or damaged, so it cannot be restored whole. Take a new backup, and look ` +
        `at the verify task's log for what is damaged.`,
      details: {
        job_uuid: a.job_uuid,
        store_uuid: a.store_uuid,
        taken_at: toIso(a.taken_at),
      },
    }
  })
}
