import { describe, expect, it } from 'vitest'
import { formatBytes } from '../../src-daemon/contract/format-bytes'
import { fmtSize } from '../../src-daemon/cli/format'
import { formatBytes as taskBytes, formatRate } from '../../src-daemon/tasks/progress'
import { fmtBytes } from '../../src-renderer/src/composables/format'

// The three formatters each caller had before they shared one, kept here to
// show that every caller still prints exactly what it printed.
function oldTaskLog(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}
function oldCli(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}
function oldUi(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
}

const SAMPLES = [
  0,
  1,
  512,
  512.5,
  1023,
  1023.9,
  1024,
  1536,
  10 * 1024 - 1,
  10 * 1024,
  99.94 * 1024,
  99.96 * 1024,
  100 * 1024,
  1024 ** 2 - 1,
  5 * 1024 ** 3,
  1024 ** 4,
  1023.99 * 1024 ** 4,
  1024 ** 5,
  3000 * 1024 ** 5,
  -5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
]

describe('formatBytes', () => {
  it('reads in binary units with one decimal by default', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(200 * 1024 ** 2)).toBe('200.0 MiB')
    expect(formatBytes(2 * 1024 ** 5)).toBe('2.0 PiB')
  })

  it('keeps each style: whole numbers from a value on, rounded bytes, a largest unit', () => {
    expect(formatBytes(12.5 * 1024, { wholeFrom: 10 })).toBe('13 KiB')
    expect(formatBytes(9.5 * 1024, { wholeFrom: 10 })).toBe('9.5 KiB')
    expect(formatBytes(512.5)).toBe('512.5 B')
    expect(formatBytes(512.4, { roundBytes: true })).toBe('512 B')
    expect(formatBytes(2 * 1024 ** 5, { largest: 'TiB' })).toBe('2048.0 TiB')
  })

  it('prints what the task log, the CLI and the UI printed before', () => {
    for (const n of SAMPLES) {
      expect(taskBytes(n), `task log ${n}`).toBe(oldTaskLog(n))
      expect(fmtSize(n), `cli ${n}`).toBe(oldCli(n))
      expect(fmtBytes(n), `ui ${n}`).toBe(oldUi(n))
    }
    expect(formatRate(1536, 1000)).toBe('1.5 KiB/s')
    expect(formatRate(1000, 3)).toBe(`${oldTaskLog(1000_000 / 3)}/s`)
    expect(fmtSize(null)).toBe('-')
    expect(fmtBytes(undefined)).toBe('—')
  })
})
