// MetricsService over a real catalog with a clock the test moves: which task
// and archive each per-job figure comes from (the newest by end, of the right
// op and status), ages from the clock, blobs counted in a store's bytes,
// health signals as labelled series, and series that go with their job.
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import type { TaskRow } from '../../src-daemon/catalog/rows'
import type { HealthSignal } from '../../src-daemon/contract/health'
import { MetricsService } from '../../src-daemon/services/metrics'
import { inProcess } from '../helpers/in-process'

interface Family {
  name: string
  metrics: { value: string; labels?: Record<string, string> }[]
}
const parseMetrics = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[]

let world: ReturnType<typeof inProcess> | undefined
afterEach(() => world?.close())

const START = Date.parse('2026-03-01T00:00:00Z')
const MIN = 60_000

function setup() {
  const w = (world = inProcess('2026-03-01T00:00:00Z'))
  const metrics = new MetricsService({ catalog: w.catalog, clock: w.clock, version: '9.9.9' })
  const jobUuid = w.job('daily at 4am')
  const job = w.catalog.jobs.get(jobUuid)!
  const task = (row: Partial<TaskRow> & Pick<TaskRow, 'op' | 'status'>): string => {
    const uuid = randomUUID()
    w.catalog.tasks.insert({
      uuid,
      owner: 'test',
      job_uuid: null,
      archive_uuid: null,
      target_uuid: null,
      store_uuid: job.store_uuid,
      priority: 50,
      requested_at: START,
      started_at: null,
      stopped_at: null,
      bytes: 0,
      progress: null,
      error: null,
      ...row,
    })
    return uuid
  }
  const archive = (takenAt: number, size: number, extra: Record<string, unknown> = {}) => {
    const uuid = randomUUID()
    w.catalog.archives.insert({
      uuid,
      job_uuid: jobUuid,
      target_uuid: job.target_uuid,
      store_uuid: job.store_uuid,
      store_key: `k/${uuid}`,
      taken_at: takenAt,
      expires_at: takenAt + 86400_000,
      notes: '',
      status: 'valid',
      target_plugin: 'faketarget',
      size,
      purged_at: null,
      format: 'vault',
      new_bytes: Math.floor(size / 10),
      ...extra,
    })
    return uuid
  }
  const scrape = async (health?: HealthSignal[]) =>
    parseMetrics((await metrics.scrape(health && { current: () => health })).text).map((f) => ({
      name: f.name,
      samples: f.metrics.map((m) => ({ labels: m.labels ?? {}, value: m.value })),
    }))
  return { w, job, jobUuid, task, archive, scrape }
}

type Scraped = Awaited<ReturnType<ReturnType<typeof setup>['scrape']>>
const values = (s: Scraped, name: string, labels: Record<string, string> = {}) =>
  (s.find((f) => f.name === name)?.samples ?? [])
    .filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
    .map((x) => x.value)

describe('MetricsService', () => {
  it('takes each job figure from the newest finished task of the right kind', async () => {
    const { jobUuid, task, archive, scrape, w } = setup()
    const older = archive(START, 1000)
    const newer = archive(START + 10 * MIN, 3000, { new_bytes: 42 })
    const backup = { op: 'backup' as const, job_uuid: jobUuid }
    task({
      ...backup,
      status: 'done',
      archive_uuid: older,
      started_at: START,
      stopped_at: START + 2 * MIN,
    })
    task({
      ...backup,
      status: 'done',
      archive_uuid: newer,
      started_at: START + 10 * MIN,
      stopped_at: START + 13 * MIN,
      bytes: 5,
    })
    task({
      ...backup,
      status: 'failed',
      started_at: START + 20 * MIN,
      stopped_at: START + 21 * MIN,
    })
    task({
      ...backup,
      status: 'failed',
      started_at: START + 30 * MIN,
      stopped_at: START + 31 * MIN,
    })
    task({
      ...backup,
      status: 'canceled',
      started_at: START + 40 * MIN,
      stopped_at: START + 40 * MIN,
    })
    task({ ...backup, status: 'pending' })
    task({ ...backup, status: 'running', started_at: START + 50 * MIN })
    // Restores name the archive, not the job; the older one finished later.
    task({
      op: 'restore',
      status: 'done',
      archive_uuid: newer,
      started_at: START + 60 * MIN,
      stopped_at: START + 61 * MIN,
    })
    task({
      op: 'restore',
      status: 'done',
      archive_uuid: older,
      started_at: START + 70 * MIN,
      stopped_at: START + 75 * MIN,
    })
    task({
      op: 'restore',
      status: 'failed',
      archive_uuid: older,
      started_at: START + 80 * MIN,
      stopped_at: START + 99 * MIN,
    })
    w.clock.t = START + 100 * MIN

    const s = await scrape()
    const j = { job_uuid: jobUuid }
    expect(values(s, 'bulwark_job_last_success_timestamp_seconds', j)).toEqual([
      String((START + 13 * MIN) / 1000),
    ])
    expect(values(s, 'bulwark_job_last_failure_timestamp_seconds', j)).toEqual([
      String((START + 31 * MIN) / 1000),
    ])
    expect(values(s, 'bulwark_job_last_duration_seconds', j)).toEqual(['180'])
    // The archive's size, not the task's bytes.
    expect(values(s, 'bulwark_job_last_bytes', j)).toEqual(['3000'])
    expect(values(s, 'bulwark_job_last_new_bytes', j)).toEqual(['42'])
    expect(values(s, 'bulwark_job_runs_total', { ...j, outcome: 'done' })).toEqual(['2'])
    expect(values(s, 'bulwark_job_runs_total', { ...j, outcome: 'failed' })).toEqual(['2'])
    expect(values(s, 'bulwark_job_runs_total', { ...j, outcome: 'canceled' })).toEqual(['1'])
    expect(values(s, 'bulwark_job_newest_valid_archive_age_seconds', j)).toEqual([String(90 * 60)])
    expect(values(s, 'bulwark_job_last_restore_duration_seconds', j)).toEqual(['300'])
    expect(values(s, 'bulwark_tasks_queued')).toEqual(['1'])
    expect(values(s, 'bulwark_tasks_running')).toEqual(['1'])
    expect(values(s, 'bulwark_build_info', { version: '9.9.9' })).toEqual(['1'])

    // The clock moves: so does the age, and only the age.
    w.clock.t += 3600_000
    expect(values(await scrape(), 'bulwark_job_newest_valid_archive_age_seconds', j)).toEqual([
      String(150 * 60),
    ])
  })

  it('ages only valid archives, +Inf when none is left', async () => {
    const { jobUuid, archive, scrape, w } = setup()
    archive(START, 10, { status: 'invalid' })
    archive(START - MIN, 10, { status: 'expired' })
    w.clock.t = START + MIN
    const j = { job_uuid: jobUuid }
    expect(values(await scrape(), 'bulwark_job_newest_valid_archive_age_seconds', j)).toEqual([
      '+Inf',
    ])
    archive(START - 5 * MIN, 10)
    expect(values(await scrape(), 'bulwark_job_newest_valid_archive_age_seconds', j)).toEqual([
      '360',
    ])
  })

  it("counts a store's blobs as well as its chunks, and not its purged archives", async () => {
    const { job, archive, scrape, w } = setup()
    w.catalog.db
      .prepare(
        'INSERT INTO vault_chunks (store_uuid, id, stored_size, created_at) VALUES (?, ?, ?, ?)',
      )
      .run(job.store_uuid, 'a'.repeat(64), 400, START)
    archive(START, 1000)
    archive(START, 500, { format: 'blob', stored_bytes: 600 })
    archive(START, 700, { status: 'purged', format: 'blob', stored_bytes: 800 })
    const st = { store_uuid: job.store_uuid }
    const s = await scrape()
    expect(values(s, 'bulwark_store_bytes', st)).toEqual(['1000'])
    expect(values(s, 'bulwark_store_logical_bytes', st)).toEqual(['1500'])
    expect(values(s, 'bulwark_store_dedup_ratio', st)).toEqual(['1.5'])
    expect(values(s, 'bulwark_store_chunks', st)).toEqual(['1'])
    expect(values(s, 'bulwark_store_archives', st)).toEqual(['2'])
  })

  it('gives one series per raised health signal, and none when there are none', async () => {
    const { jobUuid, scrape } = setup()
    const signal: HealthSignal = {
      id: `stale:job:${jobUuid}`,
      signal: 'stale',
      severity: 'warning',
      subject: { kind: 'job', uuid: jobUuid, name: 'job "daily"' },
      message: 'no valid archive for 3 days',
      since: '2026-03-01T00:00:00.000Z',
      details: { age_seconds: 259200 },
    }
    const s = await scrape([signal])
    expect(s.find((f) => f.name === 'bulwark_health_signal')?.samples).toEqual([
      {
        labels: {
          signal: 'stale',
          severity: 'warning',
          subject_kind: 'job',
          subject_uuid: jobUuid,
          subject_name: 'job "daily"',
        },
        value: '1',
      },
    ])
    // Gone from the next scrape once it is no longer raised, as when no health service exists.
    expect(values(await scrape([]), 'bulwark_health_signal')).toEqual([])
    expect(values(await scrape(), 'bulwark_health_signal')).toEqual([])
  })

  it("drops a deleted job's series at the next scrape", async () => {
    const { w, jobUuid, scrape } = setup()
    const j = { job_uuid: jobUuid }
    expect(values(await scrape(), 'bulwark_job_paused', j)).toEqual(['0'])
    w.catalog.jobs.delete(jobUuid)
    const s = await scrape()
    expect(values(s, 'bulwark_job_paused', j)).toEqual([])
    expect(values(s, 'bulwark_job_runs_total', j)).toEqual([])
    expect(values(s, 'bulwark_up')).toEqual(['1'])
  })
})
