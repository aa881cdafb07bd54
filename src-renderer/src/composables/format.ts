// How numbers, sizes and times read on screen.
import { formatBytes } from '../../../src-daemon/contract/format-bytes'

/** "512 B", "9.5 KiB", "12 MiB": two significant digits at most ("—" for none). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  return formatBytes(n, { wholeFrom: 10 })
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/** "3 min ago", "in 2 h": for times near now; fmtDate for the exact one. */
export function fmtRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—'
  const diff = new Date(iso).getTime() - now
  const abs = Math.abs(diff)
  const steps: [number, string][] = [
    [60_000, 's'],
    [3600_000, 'min'],
    [86400_000, 'h'],
    [Infinity, 'd'],
  ]
  const divisors: Record<string, number> = { s: 1000, min: 60_000, h: 3600_000, d: 86400_000 }
  const unit = steps.find(([limit]) => abs < limit)![1]
  const value = Math.max(0, Math.round(abs / divisors[unit]!))
  if (unit === 's' && value < 5) return 'just now'
  return diff < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

/** A retention period in seconds as "30 days", "12 hours", "2 weeks". */
export function fmtPeriod(seconds: number): string {
  const units: [number, string][] = [
    [7 * 86400, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
  ]
  for (const [size, name] of units) {
    if (seconds % size === 0) {
      const n = seconds / size
      return `${n} ${name}${n === 1 ? '' : 's'}`
    }
  }
  return `${seconds} seconds`
}

export function taskDuration(t: {
  started_at: string | null
  stopped_at: string | null
}): number | null {
  if (!t.started_at) return null
  const end = t.stopped_at ? new Date(t.stopped_at).getTime() : Date.now()
  return end - new Date(t.started_at).getTime()
}

/** "1 archive", "2 archives", "0 archives". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
