// The CLI's pure formatting and value parsing.
import { describe, expect, it } from 'vitest'
import { applySets, coerceValue } from '../../src-daemon/cli/endpoint'
import { UsageError } from '../../src-daemon/cli/errors'
import {
  fmtDate,
  fmtDuration,
  fmtEndpoint,
  fmtSize,
  parseDay,
  parseDuration,
  truncate,
} from '../../src-daemon/cli/format'
import { formatPairs, formatTable } from '../../src-daemon/cli/output'
import { pickRef } from '../../src-daemon/cli/refs'
import type { PluginInfo } from '../../src-daemon/contract'

describe('durations', () => {
  it('parses seconds and unit forms', () => {
    expect(parseDuration('3600')).toBe(3600)
    expect(parseDuration('90m')).toBe(5400)
    expect(parseDuration('12h')).toBe(43200)
    expect(parseDuration('7d')).toBe(604800)
    expect(parseDuration('4w')).toBe(2419200)
    expect(parseDuration('1y')).toBe(31536000)
    expect(parseDuration('1d12h')).toBe(129600)
    expect(parseDuration('2 weeks')).toBe(1209600)
  })

  it('refuses what is not a duration', () => {
    for (const bad of ['', 'soon', '7x', '7d foo', 'd7']) {
      expect(() => parseDuration(bad)).toThrow(UsageError)
    }
  })

  it('formats the shortest exact form', () => {
    expect(fmtDuration(604800)).toBe('1w')
    expect(fmtDuration(93600)).toBe('1d2h')
    expect(fmtDuration(3600)).toBe('1h')
    expect(fmtDuration(31536000)).toBe('1y')
  })
})

describe('values', () => {
  it('formats sizes, days and dates', () => {
    expect(fmtSize(null)).toBe('-')
    expect(fmtSize(512)).toBe('512 B')
    expect(fmtSize(1536)).toBe('1.5 KiB')
    expect(fmtSize(5 * 1024 ** 3)).toBe('5.0 GiB')
    expect(parseDay('2025-01-31', '--after')).toBe('20250131')
    expect(() => parseDay('20251340', '--after')).toThrow(/YYYYMMDD/)
    expect(fmtDate(null)).toBe('-')
    const local = new Date('2025-01-31T10:20:30Z')
    const hh = String(local.getHours()).padStart(2, '0')
    expect(fmtDate('2025-01-31T10:20:30Z')).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d ${hh}:\\d\\d$`),
    )
    expect(fmtDate('2025-01-31T10:20:30Z', true)).toMatch(/ \d\d:\d\d:30$/)
    expect(truncate('abcdef', 4)).toBe('abc…')
    expect(fmtEndpoint('{"path":"/x","n":1}')).toBe('path=/x n=1')
  })
})

describe('tables', () => {
  it('aligns columns and trims trailing space', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['xx', null],
          ['y', 'z'],
        ],
      ),
    ).toBe('A   LONGER\nxx  -\ny   z\n')
    expect(
      formatPairs([
        ['Name', 'n'],
        ['Summary', 'a\nb'],
      ]),
    ).toBe('Name:     n\nSummary:  a\n          b\n')
  })
})

describe('refs', () => {
  const items = [
    { uuid: 'aaaa1111-0000-0000-0000-000000000000', name: 'alpha' },
    { uuid: 'aaaa2222-0000-0000-0000-000000000000', name: 'beta' },
    { uuid: 'bbbb1111-0000-0000-0000-000000000000', name: 'beta' },
  ]
  it('matches exact names first, then unique prefixes', () => {
    expect(pickRef('target', 'alpha', items).uuid).toBe(items[0]?.uuid)
    expect(pickRef('target', 'aaaa2', items).name).toBe('beta')
    expect(pickRef('target', 'BBBB', items).uuid).toBe(items[2]?.uuid)
  })
  it('explains ambiguous and missing refs', () => {
    expect(() => pickRef('target', 'beta', items)).toThrow(
      /2 targets are named "beta"[\s\S]*aaaa2222/,
    )
    expect(() => pickRef('target', 'aaaa', items)).toThrow(
      /2 targets have uuids starting with "aaaa"/,
    )
    expect(() => pickRef('target', 'alpah', items)).toThrow(/did you mean "alpha"/)
    expect(() => pickRef('target', 'aa', items)).toThrow(/at least 4 characters/)
  })
})

describe('endpoint --set', () => {
  const plugin = {
    name: 'postgres',
    fields: [
      { name: 'port', title: 'Port', type: 'integer' },
      { name: 'password', title: 'Password', type: 'string', secret: true },
      { name: 'exclude', title: 'Exclude', type: 'list' },
      { name: 'tls', title: 'TLS', type: 'boolean' },
    ],
  } as unknown as PluginInfo

  it('types values by field and keeps redacted secrets', () => {
    const base = { password: '<redacted>', port: 1 }
    const result = applySets(base, ['port=5432', 'exclude=a, b', 'tls=yes'], [], plugin, 'x')
    expect(result).toEqual({ password: '<redacted>', port: 5432, exclude: ['a', 'b'], tls: true })
    expect(applySets(base, [], ['port'], plugin, 'x')).toEqual({ password: '<redacted>' })
  })

  it('refuses unknown fields and bad values with a hint', () => {
    expect(() => applySets({}, ['pasword=x'], [], plugin, 'x')).toThrow(/did you mean password/)
    expect(() => applySets({}, ['port=abc'], [], plugin, 'x')).toThrow(/not a whole number/)
    expect(() => applySets({}, ['novalue'], [], plugin, 'x')).toThrow(/KEY=VALUE/)
    expect(coerceValue(undefined, '42', 'x')).toBe('42')
  })
})
