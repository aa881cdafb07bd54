// The time axis of the backups chart. Left to itself, Chart.js widens an axis
// whose points all share one time by 5% of that time (years, for epoch
// milliseconds) and labels the years between as times of day. One point, or
// points all within a minute, get an hour around them and one tick instead:
// that moment, with its date.

/** Points closer together than this read as one moment on the axis. */
export const SHORT_SPAN_MS = 60_000
/** The axis around such a moment: half an hour each side. */
const PAD_MS = 30 * 60_000

export interface TimeAxis {
  /** Set only for a short span; otherwise the chart picks its own range and ticks. */
  min?: number
  max?: number
  /** The ticks to show, when the chart's own would be wrong. */
  ticks?: number[]
}

export function timeAxis(xs: number[]): TimeAxis {
  if (xs.length === 0) return {}
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  if (hi - lo >= SHORT_SPAN_MS) return {}
  const mid = lo + (hi - lo) / 2
  return { min: mid - PAD_MS, max: mid + PAD_MS, ticks: [lo] }
}

export interface TickFormat {
  locale?: string
  timeZone?: string
}

/**
 * A tick as precise as the span of the points needs: the date and time of a
 * single moment, seconds within minutes, times of day within two days, dates
 * beyond.
 */
export function tickLabel(ms: number, spanMs: number, f: TickFormat = {}): string {
  const d = new Date(ms)
  const tz = f.timeZone ? { timeZone: f.timeZone } : {}
  if (spanMs < SHORT_SPAN_MS) {
    return d.toLocaleString(f.locale, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...tz,
    })
  }
  if (spanMs < 10 * 60_000) {
    return d.toLocaleTimeString(f.locale, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      ...tz,
    })
  }
  if (spanMs < 2 * 86400_000) {
    return d.toLocaleTimeString(f.locale, { hour: '2-digit', minute: '2-digit', ...tz })
  }
  return d.toLocaleDateString(f.locale, { month: 'short', day: 'numeric', ...tz })
}
