// The backups chart's time axis: one point (or points within a minute) reads
// as that moment, not as times of day spread over years.
import { describe, expect, it } from 'vitest'
import { SHORT_SPAN_MS, tickLabel, timeAxis } from '../../src-renderer/src/composables/chartTicks'

const f = { locale: 'en-US', timeZone: 'UTC' }
const at = Date.parse('2026-12-07T22:13:20Z')

describe('timeAxis', () => {
  it('puts one point in an hour around it, with one tick: the point', () => {
    expect(timeAxis([at])).toEqual({ min: at - 30 * 60_000, max: at + 30 * 60_000, ticks: [at] })
  })

  it('treats points within a minute as one moment', () => {
    const axis = timeAxis([at, at + 20_000, at + 40_000])
    expect(axis.ticks).toEqual([at])
    expect(axis.max! - axis.min!).toBe(60 * 60_000)
    expect(axis.min! < at && axis.max! > at + 40_000).toBe(true)
  })

  it('leaves a real span, and no points, to the chart', () => {
    expect(timeAxis([at, at + SHORT_SPAN_MS])).toEqual({})
    expect(timeAxis([at, at + 86400_000])).toEqual({})
    expect(timeAxis([])).toEqual({})
  })
})

describe('tickLabel', () => {
  it('labels a single moment with its date and time', () => {
    expect(tickLabel(at, 0, f)).toBe('Dec 7, 10:13 PM')
    // Every tick the chart might ask for in that hour reads as a time on that day, not a date years off.
    const axis = timeAxis([at])
    for (const t of [axis.min!, at, axis.max!]) expect(tickLabel(t, 0, f)).toMatch(/^Dec 7, /)
  })

  it('is as precise as the span needs', () => {
    expect(tickLabel(at, 5 * 60_000, f)).toBe('10:13:20 PM')
    expect(tickLabel(at, 3600_000, f)).toBe('10:13 PM')
    expect(tickLabel(at, 5 * 86400_000, f)).toBe('Dec 7')
  })
})
