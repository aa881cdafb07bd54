// The health computations on plain rows: a schedule's period, which archives
// count as shrunk and for how long, and the space of stores with a quota or
// on a filesystem (a stand-in filesystem, so any machine gives the same).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openCatalog } from '../../src-daemon/catalog/db'
import { HealthRepo, type JobArchive } from '../../src-daemon/catalog/health-repo'
import type { StoreRow } from '../../src-daemon/catalog/rows'
import {
  periodOf,
  shrunkSignals,
  staleSignals,
  type HealthJob,
} from '../../src-daemon/services/health-signals'
import { lowSpaceSignals, type Filesystem } from '../../src-daemon/services/health-space'
import { tempDir } from '../helpers/daemon'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const GiB = 1024 ** 3

describe('periodOf', () => {
  it('is the longest gap between the next runs', () => {
    const tuesday = Date.parse('2026-12-08T12:00:00Z')
    expect(periodOf('daily at 4am', 'UTC', tuesday)).toBe(DAY)
    expect(periodOf('every 4 hours from 12:15am', 'UTC', tuesday)).toBe(4 * HOUR)
    // Weekdays only: Friday to Monday, so a Monday morning is not late.
    expect(periodOf('0 2 * * 1-5', 'UTC', tuesday)).toBe(3 * DAY)
  })

  it('is null for a schedule that cannot be read', () => {
    expect(periodOf('whenever', 'UTC', 0)).toBeNull()
  })
})

describe('staleSignals', () => {
  const created = Date.parse('2026-12-01T00:00:00Z')
  const job = (rpo_seconds: number | null): HealthJob => ({
    uuid: 'job-1',
    name: 'orders',
    paused: 0,
    created_at: created,
    timespec: 'daily at 4am',
    timezone: 'UTC',
    last_status: 'failed',
    verify_timespec: null,
    verify_timezone: null,
    rpo_seconds,
  })
  const newest = new Map([
    ['job-1', [{ uuid: 'a1', job_uuid: 'job-1', target_uuid: 't1', taken_at: created, size: 1 }]],
  ])

  it("waits twice the schedule's period without an RPO", () => {
    expect(staleSignals([job(null)], newest, created + 47 * HOUR)).toEqual([])
    const [stale] = staleSignals([job(null)], newest, created + 49 * HOUR)
    expect(stale?.message).toContain('while its schedule "daily at 4am" runs every 24 hours')
    expect(stale?.details).toMatchObject({ period_seconds: 86400, rpo_seconds: null })
  })

  it("uses the job's RPO when it has one, shorter or longer than twice the period", () => {
    const [early] = staleSignals([job(6 * 3600)], newest, created + 7 * HOUR)
    expect(early?.message).toContain('while its recovery point objective is 6 hours')
    expect(early?.details).toMatchObject({ rpo_seconds: 6 * 3600, age_seconds: 7 * 3600 })
    expect(staleSignals([job(6 * 3600)], newest, created + 5 * HOUR)).toEqual([])
    // A week's RPO on a daily job: three days without an archive are still within it.
    expect(staleSignals([job(7 * 86400)], newest, created + 3 * DAY)).toEqual([])
  })
})

describe('shrunkSignals', () => {
  const job = 'job-1'
  const archives = (sizes: (number | null)[], target = 't1'): JobArchive[] =>
    sizes.map((size, i) => ({
      uuid: `a${i}`,
      job_uuid: job,
      target_uuid: target,
      taken_at: Date.parse('2026-12-01T03:00:00Z') + i * DAY,
      size,
    }))
  const shrunk = (list: JobArchive[]) =>
    shrunkSignals(new Map([[job, list]]), new Map([[job, 'nightly']])).map((s) => s.subject.uuid)

  it('needs three archives before one to judge it', () => {
    expect(shrunk(archives([100, 100, 10]))).toEqual([])
    expect(shrunk(archives([100, 100, 100, 10]))).toEqual(['a3'])
  })

  it('compares with the median of the last five, and gives the figures', () => {
    const [signal] = shrunkSignals(
      new Map([[job, archives([1, 1, 1000, 1000, 1000, 1000, 1000, 400])]]),
      new Map([[job, 'nightly']]),
    )
    expect(signal).toMatchObject({
      id: 'shrunk:archive:a7',
      subject: { kind: 'archive', uuid: 'a7', name: 'nightly 2026-12-08 03:00 UTC' },
      details: { size: 400, median: 1000, compared: 5 },
    })
  })

  it('lists shrunk archives until one after them is not shrunk', () => {
    expect(shrunk(archives([100, 100, 100, 100, 100, 10, 10]))).toEqual(['a5', 'a6'])
    expect(shrunk(archives([100, 100, 100, 100, 100, 10, 100]))).toEqual([])
  })

  it('compares only with archives of the same target', () => {
    const list = [...archives([100, 100, 100], 'old'), ...archives([10], 'new')]
    expect(shrunk(list)).toEqual([])
  })
})

describe('lowSpaceSignals', () => {
  const store = (plugin: string, endpoint: object): StoreRow => ({
    uuid: `${plugin}-store`,
    name: plugin,
    summary: '',
    plugin,
    endpoint: JSON.stringify(endpoint),
    created_at: 0,
    updated_at: 0,
  })
  const check = (stores: StoreRow[], fs: Filesystem, used = 0, lowSpaceBytes?: number) =>
    lowSpaceSignals(
      stores,
      {
        storedBytes: () => used,
        filesystem: async () => fs,
        warn: () => undefined,
      },
      { lowSpaceBytes },
    )
  const roomy = { free: 500 * GiB, total: 1000 * GiB }

  it('raises for an fs store under 10% or 1 GiB free, or the set threshold', async () => {
    const fs = [store('fs', { path: '/srv/backups' })]
    expect(await check(fs, roomy)).toEqual([])
    expect(await check(fs, { free: 90 * GiB, total: 1000 * GiB })).toHaveLength(1)
    expect(await check(fs, { free: GiB / 2, total: 4 * GiB })).toHaveLength(1)
    const [signal] = await check(fs, roomy, 0, 600 * GiB)
    expect(signal?.details).toMatchObject({ free_bytes: 500 * GiB, threshold_bytes: 600 * GiB })
  })

  it('raises for a store with a quota holding more than 90% of it', async () => {
    const s3 = [store('s3', { bucket: 'b', quota_gb: 10 })]
    expect(await check(s3, roomy, 8e9)).toEqual([])
    const [signal] = await check(s3, roomy, 9.5e9)
    expect(signal).toMatchObject({
      id: 'low-space:store:s3-store',
      details: { used_bytes: 9.5e9, quota_bytes: 10e9, percent_used: 95 },
    })
    expect(await check([store('s3', { bucket: 'b' })], roomy, 1e15)).toEqual([])
  })
})

describe('HealthRepo.storedBytes', () => {
  it("counts the vault's chunks and the blobs not purged, of that store only", () => {
    const db = openCatalog(join(tempDir('bulwark-health-repo-'), 'catalog.db'))
    const chunk = db.prepare(
      'INSERT INTO vault_chunks (store_uuid, id, stored_size, created_at) VALUES (?, ?, ?, 0)',
    )
    chunk.run('s1', 'c1', 1000)
    chunk.run('s1', 'c2', 500)
    chunk.run('s2', 'c1', 7)
    const archive = db.prepare(
      `INSERT INTO archives (uuid, target_uuid, store_uuid, store_key, taken_at, expires_at,
         status, size, stored_bytes, format) VALUES (?, 't', ?, 'k', 0, 0, ?, ?, ?, ?)`,
    )
    archive.run('a1', 's1', 'valid', 9999, 1500, 'vault') // its chunks are counted above
    archive.run('a2', 's1', 'valid', 300, null, 'plain')
    archive.run('a3', 's1', 'expired', 200, 40, 'blob')
    archive.run('a4', 's1', 'purged', 5000, 5000, 'blob')
    expect(new HealthRepo(db).storedBytes('s1')).toBe(1000 + 500 + 300 + 40)
    db.close()
  })
})
