// The running backup's estimate from the previous archive's size.
import { describe, expect, it } from 'vitest'
import {
  MAX_ESTIMATE,
  estimateProgress,
  fmtTimeLeft,
} from '../../src-renderer/src/composables/progressEstimate'

const MB = 1024 * 1024
const t0 = Date.parse('2026-12-07T10:00:00Z')

describe('estimateProgress', () => {
  it('gives the percent of the last size and the time left at the rate so far', () => {
    // 40 MB of 100 MB in 80 s: 0.5 MB/s, 60 MB left → 120 s.
    const e = estimateProgress({
      bytes: 40 * MB,
      expected: 100 * MB,
      startedAt: t0,
      now: t0 + 80_000,
    })!
    expect(e.fraction).toBeCloseTo(0.4)
    expect(e.secondsLeft).toBeCloseTo(120)
    expect(e.label).toBe("about 40% · ~2 min left, from the last backup's size")
  })

  it('gives none without a previous archive (or one of no size)', () => {
    for (const expected of [null, undefined, 0])
      expect(estimateProgress({ bytes: 5, expected, startedAt: t0, now: t0 + 1000 })).toBeNull()
  })

  it('never says more than 99% while running, even past the last size', () => {
    const at = estimateProgress({
      bytes: 100 * MB,
      expected: 100 * MB,
      startedAt: t0,
      now: t0 + 10_000,
    })!
    expect(at.fraction).toBe(MAX_ESTIMATE)
    expect(at.label).toMatch(/^about 99%/)
    const past = estimateProgress({
      bytes: 300 * MB,
      expected: 100 * MB,
      startedAt: t0,
      now: t0 + 10_000,
    })!
    expect(past.fraction).toBe(MAX_ESTIMATE)
    expect(past.secondsLeft).toBeNull()
    expect(past.label).not.toMatch(/left/)
  })

  it('gives no time left before any byte moved or without a start time', () => {
    const start = estimateProgress({ bytes: 0, expected: 100, startedAt: t0, now: t0 })!
    expect(start.fraction).toBe(0)
    expect(start.secondsLeft).toBeNull()
    expect(start.label).toBe("about 0%, from the last backup's size")
    expect(
      estimateProgress({ bytes: 50, expected: 100, startedAt: null, now: t0 })!.secondsLeft,
    ).toBeNull()
  })
})

describe('fmtTimeLeft', () => {
  it('rounds to seconds, minutes, hours', () => {
    expect(fmtTimeLeft(0.2)).toBe('~1 s')
    expect(fmtTimeLeft(45)).toBe('~45 s')
    expect(fmtTimeLeft(119)).toBe('~2 min')
    expect(fmtTimeLeft(70 * 60)).toBe('~1 h 10 min')
  })
})
