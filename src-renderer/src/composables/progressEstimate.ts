// A running backup's estimate when the daemon knows no total: the job's
// previous valid archive's size taken as the total to expect, the time left
// from the rate so far. Only ever an estimate, and said to be one.

/** Never more than this while the task still runs: the estimate's total may be short. */
export const MAX_ESTIMATE = 0.99

export interface ProgressEstimate {
  /** 0..MAX_ESTIMATE. */
  fraction: number
  /** Seconds left at the rate so far, or null when there is no rate yet (or bytes passed the total). */
  secondsLeft: number | null
  /** "about 40% · ~2 min left, from the last backup's size" */
  label: string
}

/** "~45 s", "~2 min", "~1 h 10 min". */
export function fmtTimeLeft(seconds: number): string {
  const s = Math.max(1, Math.round(seconds))
  if (s < 60) return `~${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `~${m} min`
  return `~${Math.floor(m / 60)} h ${m % 60} min`
}

export function estimateProgress(input: {
  bytes: number
  /** Size of the job's previous valid archive; null or 0: no estimate. */
  expected: number | null | undefined
  /** When the task started (ms since the epoch), for the rate. */
  startedAt: number | null
  now: number
}): ProgressEstimate | null {
  const { bytes, expected, startedAt, now } = input
  if (!expected || expected <= 0 || !Number.isFinite(expected)) return null
  const fraction = Math.max(0, Math.min(MAX_ESTIMATE, bytes / expected))
  const elapsed = startedAt === null ? 0 : (now - startedAt) / 1000
  const rate = elapsed > 0 && bytes > 0 ? bytes / elapsed : 0
  const secondsLeft = rate > 0 && bytes < expected ? (expected - bytes) / rate : null
  const percent = Math.floor(fraction * 100)
  const left =
    secondsLeft !== null
      ? ` · ${fmtTimeLeft(secondsLeft)} left`
      : bytes >= expected
        ? ' · past it'
        : ''
  return { fraction, secondsLeft, label: `about ${percent}%${left}, from the last backup's size` }
}
