// Pure formatting and parsing of values for people: local dates, sizes,
// durations (retention `--expires 7d`), day filters (`--after 20250101`).
import { formatBytes } from '../contract/format-bytes'
import { UsageError } from './errors'

const pad = (n: number) => String(n).padStart(2, '0')

/** An ISO timestamp as local "YYYY-MM-DD HH:MM" ("-" for none). */
export function fmtDate(iso: string | null | undefined, seconds = false): string {
  if (!iso) return '-'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`
  return `${day} ${time}`
}

/** An ISO timestamp as its local day, "YYYY-MM-DD" ("-" for none). */
export function fmtDay(iso: string | null | undefined): string {
  const text = fmtDate(iso)
  return /^\d{4}-\d\d-\d\d /.test(text) ? text.slice(0, 10) : text
}

/** logical / stored as "2.50x" ("-" when nothing is stored). */
export function fmtRatio(logical: number, stored: number): string {
  if (!(stored > 0) || !Number.isFinite(logical)) return '-'
  return `${(logical / stored).toFixed(2)}x`
}

/** "512 B", "12.3 MiB", "512 KiB": three significant digits at most ("-" for none). */
export function fmtSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-'
  return formatBytes(bytes, { wholeFrom: 100, roundBytes: true })
}

const UNITS: [string, number, string[]][] = [
  ['y', 365 * 86400, ['year', 'years', 'yr', 'yrs']],
  ['w', 7 * 86400, ['week', 'weeks', 'wk', 'wks']],
  ['d', 86400, ['day', 'days']],
  ['h', 3600, ['hour', 'hours', 'hr', 'hrs']],
  ['m', 60, ['min', 'mins', 'minute', 'minutes']],
  ['s', 1, ['sec', 'secs', 'second', 'seconds']],
]

/** Seconds as the shortest exact form: 604800 → "1w", 93600 → "1d2h". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds)
  if (seconds === 0) return '0s'
  let rest = Math.round(seconds)
  const parts: string[] = []
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size)
    if (n > 0) {
      parts.push(`${n}${unit}`)
      rest -= n * size
    }
  }
  return parts.join('')
}

/**
 * "3600", "90m", "12h", "7d", "4w", "1y", "1d12h", "2 weeks" → seconds.
 * A year is 365 days. Throws a UsageError naming `flag` otherwise.
 */
export function parseDuration(text: string, flag = '--expires'): number {
  const s = text.trim().toLowerCase()
  if (/^\d+$/.test(s)) return Number(s)
  const re = /(\d+)\s*([a-z]+)\s*/g
  let total = 0
  let consumed = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index !== consumed) break
    const [, amount, word] = m
    const unit = UNITS.find(([u, , names]) => u === word || names.includes(word ?? ''))
    if (!unit) break
    total += Number(amount) * unit[1]
    consumed = re.lastIndex
  }
  if (s === '' || consumed !== s.length) {
    throw new UsageError(
      `${flag} "${text}" is not a duration: use seconds or a number with a unit, like 90m, 12h, 7d, 4w, 1y`,
    )
  }
  return total
}

/** "20250131" or "2025-01-31" → "20250131", for the archive date filters. */
export function parseDay(text: string, flag: string): string {
  const s = text.trim().replace(/^(\d{4})-(\d{2})-(\d{2})$/, '$1$2$3')
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s)
  const month = Number(m?.[2])
  const day = Number(m?.[3])
  if (!m || month < 1 || month > 12 || day < 1 || day > 31) {
    throw new UsageError(`${flag} "${text}" is not a date: use YYYYMMDD, like 20250131`)
  }
  return s
}

export function parseInteger(text: string, flag: string, min?: number, max?: number): number {
  if (!/^-?\d+$/.test(text.trim())) {
    throw new UsageError(`${flag} "${text}" is not a whole number`)
  }
  const n = Number(text)
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = max === undefined ? `at least ${min}` : `between ${min ?? '-∞'} and ${max}`
    throw new UsageError(`${flag} must be ${range} (got ${n})`)
  }
  return n
}

/** "1 archive", "3 archives". */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

export function shortUuid(uuid: string | null | undefined): string {
  return uuid ? uuid.slice(0, 8) : '-'
}

/** Cuts a string to `max` characters, marking the cut with "…". */
export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ')
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`
}

/** Seconds as "3d 4h 5m" for uptimes. */
export function fmtUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d}d ${h}h ${m}m`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s % 60}s`
  return `${s}s`
}

/** A compact one-line view of an endpoint JSON string, secrets already redacted by the API. */
export function fmtEndpoint(endpoint: string | null | undefined): string {
  if (!endpoint) return '-'
  try {
    const parsed: unknown = JSON.parse(endpoint)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.entries(parsed)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
    }
  } catch {
    // not JSON: show it as stored
  }
  return endpoint
}
