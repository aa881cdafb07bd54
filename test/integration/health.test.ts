// Health signals on the real daemon, run in this process so its clock can be
// moved: real backups of a directory into a local-directory store. A job
// whose backups fail for more than twice its schedule's period becomes stale
// (and a daemon restarted on the same data directory keeps the signal and its
// `since` without raising it again); a good backup clears it. A dump that
// shrinks by 90% after five backups raises "shrunk" with the sizes; a free-
// space threshold above the disk's free space raises "low-space"; an archive
// unverified for more than twice its job's verify period raises
// "verify-overdue", and verifying it clears it; a verify that finds an
// archive's chunks gone raises "invalid", and deleting the archive clears it.
// Each raise and clear is seen on GET /v1/events as well as in GET
// /v1/health (and `bulwark status` lists what is raised).
import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BulwarkClient } from '../../src-daemon/client'
import type { DaemonEvent, HealthReport, HealthSignal } from '../../src-daemon/contract'
import { runCli, tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'
import { chunkPaths } from '../helpers/vault-bench'

const DAY = 86_400_000
const MiB = 1024 * 1024
const base = tempDir('bulwark-health-')
const dataDir = join(base, 'data')
const src = join(base, 'src')
const away = join(base, 'src-away')
const clock = new TestClock()
const savedLowSpace = process.env.BULWARK_LOW_SPACE_BYTES
const running: { daemon: InProcessDaemon; events: EventLog }[] = []

/** The daemon's event stream, kept from the moment it is opened; waited on by predicate. */
class EventLog {
  readonly seen: DaemonEvent[] = []
  private cursor = 0
  private wake: (() => void) | undefined
  private readonly abort = new AbortController()

  static async open(daemon: InProcessDaemon): Promise<EventLog> {
    const log = new EventLog()
    const client = new BulwarkClient({ url: daemon.url, token: daemon.token })
    const stream = await client.subscribe(log.abort.signal)
    void (async () => {
      try {
        for await (const event of stream) {
          log.seen.push(event)
          log.wake?.()
        }
      } catch {
        // closed by close()
      }
    })()
    return log
  }

  /** Later waits look only at events from now on. */
  mark(): void {
    this.cursor = this.seen.length
  }

  since(): DaemonEvent[] {
    return this.seen.slice(this.cursor)
  }

  async waitFor<E extends DaemonEvent>(
    match: (e: DaemonEvent) => e is E,
    what: string,
    timeoutMs = 30_000,
  ): Promise<E> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.since().find(match)
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no event: ${what}; saw ${JSON.stringify(this.since())}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  close(): void {
    this.abort.abort()
  }
}

type HealthEvent = Extract<DaemonEvent, { type: 'health' }>
const health =
  (state: 'raised' | 'cleared', id: string) =>
  (e: DaemonEvent): e is HealthEvent =>
    e.type === 'health' && e.state === state && e.signal.id === id

async function start(log: string[] = []) {
  const daemon = await startInProcess({ dataDir, clock, log })
  const events = await EventLog.open(daemon)
  running.push({ daemon, events })
  return { daemon, events, log }
}

async function stop(d: { daemon: InProcessDaemon; events: EventLog }) {
  running.splice(
    running.findIndex((r) => r.daemon === d.daemon),
    1,
  )
  d.events.close()
  await d.daemon.close()
}

beforeAll(() => {
  // The machine's own free space must not decide the other cases.
  process.env.BULWARK_LOW_SPACE_BYTES = '0'
  mkdirSync(src)
  writeFileSync(join(src, 'data.bin'), randomBytes(MiB))
})

afterAll(async () => {
  for (const r of running.splice(0)) {
    r.events.close()
    await r.daemon.close()
  }
  if (savedLowSpace === undefined) delete process.env.BULWARK_LOW_SPACE_BYTES
  else process.env.BULWARK_LOW_SPACE_BYTES = savedLowSpace
  rmSync(base, { recursive: true, force: true })
})

/** A 5-field cron line at the UTC minute of `ms`: daily, or weekly on its weekday. */
function cronAt(ms: number, weekly = false): string {
  const d = new Date(ms)
  return `${d.getUTCMinutes()} ${d.getUTCHours()} * * ${weekly ? d.getUTCDay() : '*'}`
}

async function created(d: InProcessDaemon, path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

async function runJob(d: InProcessDaemon, job: string): Promise<any> {
  const res = await d.api('POST', `/v1/job/${job}/run`, {})
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return d.settled(res.body.task_uuid, 30_000)
}

/** Waits until no task of the job is queued or running. */
async function idle(d: InProcessDaemon, job: string): Promise<void> {
  for (;;) {
    const active = (await d.api('GET', `/v1/tasks?job=${job}&status=active`)).body as any[]
    if (active.length === 0) return
    await d.settled(active[0].uuid, 30_000)
  }
}

/** GET /v1/health once the daemon has checked at or after `at` (ms, the daemon's clock). */
async function checkedAfter(d: InProcessDaemon, at: number): Promise<HealthReport> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const report = (await d.api('GET', '/v1/health')).body as HealthReport
    if (report.checked_at !== null && Date.parse(report.checked_at) >= at) return report
    if (Date.now() > deadline)
      throw new Error(`no health check after ${new Date(at).toISOString()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const ids = (report: HealthReport) => report.signals.map((s) => s.id)

describe('health signals', () => {
  let first: Awaited<ReturnType<typeof start>>
  let d: InProcessDaemon
  let store: string
  let target: string
  let retention: string
  let job: string
  let staleSince: string
  let verifiedArchive: string
  const sizes: number[] = []

  it('raise nothing for a job that backs up', async () => {
    first = await start()
    d = first.daemon
    store = await created(d, '/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: join(base, 'store') },
    })
    target = await created(d, '/v1/targets', {
      name: 'docs',
      plugin: 'files',
      endpoint: { path: src },
    })
    // Daily, half a day from now: no scheduled run comes due unless the clock is moved.
    const daily = await created(d, '/v1/schedules', {
      name: 'daily',
      when: cronAt(clock.now() + DAY / 2),
    })
    retention = await created(d, '/v1/retention', { name: 'month', expires: 30 * 86400 })
    job = await created(d, '/v1/jobs', {
      name: 'docs',
      target,
      store,
      schedule: daily,
      retention,
    })
    const task = await runJob(d, job)
    expect(task.status, task.log).toBe('done')
    const report = await checkedAfter(d, Date.parse(task.stopped_at))
    expect(report.signals).toEqual([])
  })

  it("raises 'stale' when a job's backups fail for more than twice its schedule's period", async () => {
    renameSync(src, away) // the target's directory is gone: every backup fails
    clock.offsetMs += 3 * DAY
    first.events.mark()
    const task = await runJob(d, job)
    expect(task.status).toBe('failed')
    const raised = await first.events.waitFor(health('raised', `stale:job:${job}`), 'stale raised')
    expect(raised.signal).toMatchObject({
      signal: 'stale',
      severity: 'failure',
      subject: { kind: 'job', uuid: job, name: 'docs' },
      details: { period_seconds: 86400, last_status: 'failed' },
    })
    expect(raised.signal.details.age_seconds).toBeGreaterThan(3 * 86400 - 60)
    expect(raised.signal.message).toContain('has had no valid archive for 3 days')
    const report = (await d.api('GET', '/v1/health')).body as HealthReport
    expect(report.signals).toEqual([raised.signal])
    staleSince = raised.signal.since
    // bulwark status says so too.
    const status = await runCli(['--url', d.url, '--token', d.token, 'status'], { dataDir: base })
    expect(status.stderr).toBe('')
    expect(status.stdout).toMatch(/^Health: +1 signal\(s\) raised/m)
    expect(status.stdout).toContain(`  failure: stale: ${raised.signal.message}\n`)
  })

  it('keeps the signal and its since across a restart, without raising it again', async () => {
    await idle(d, job)
    await stop(first)
    const log: string[] = []
    const second = await start(log)
    d = second.daemon
    // A backup the restarted scheduler caught up on fails as well, and is checked after.
    await idle(d, job)
    const last = ((await d.api('GET', `/v1/tasks?job=${job}&limit=1`)).body as any[])[0]
    const report = await checkedAfter(d, Math.max(clock.now() - 1000, Date.parse(last.stopped_at)))
    const stale = report.signals.find((s) => s.id === `stale:job:${job}`)
    expect(stale?.since).toBe(staleSince)
    expect(log.filter((l) => l.includes('health: stale'))).toEqual([])
    // Another failed run: checked again, still no second 'raised'.
    const task = await runJob(d, job)
    await checkedAfter(d, Date.parse(task.stopped_at))
    expect(second.events.seen.filter((e) => e.type === 'health')).toEqual([])
    first = second
  })

  it("clears 'stale' with the next good backup", async () => {
    renameSync(away, src)
    first.events.mark()
    const task = await runJob(d, job)
    expect(task.status, task.log).toBe('done')
    const cleared = await first.events.waitFor(
      health('cleared', `stale:job:${job}`),
      'stale cleared',
    )
    expect(cleared.signal.since).toBe(staleSince)
    expect(ids(await checkedAfter(d, Date.parse(task.stopped_at)))).toEqual([])
  })

  it("raises 'shrunk' for a dump 90% smaller than the five before it, with the sizes", async () => {
    for (let i = 0; i < 3; i++) expect((await runJob(d, job)).status).toBe('done')
    const archives = (await d.api('GET', `/v1/archives?job=${job}&status=valid`)).body as any[]
    expect(archives).toHaveLength(5)
    sizes.push(...archives.map((a) => a.size as number))

    writeFileSync(join(src, 'data.bin'), randomBytes(MiB / 10))
    first.events.mark()
    const task = await runJob(d, job)
    expect(task.status, task.log).toBe('done')
    const shrunk = task.archive_uuid as string
    const raised = await first.events.waitFor(
      health('raised', `shrunk:archive:${shrunk}`),
      'shrunk raised',
    )
    const archive = (await d.api('GET', `/v1/archive/${shrunk}`)).body
    const median = [...sizes].sort((a, b) => a - b)[2]!
    expect(raised.signal).toMatchObject({
      signal: 'shrunk',
      severity: 'warning',
      subject: { kind: 'archive', uuid: shrunk },
      details: { size: archive.size, median, compared: 5 },
    })
    expect(archive.size).toBeLessThan(median / 5)
    expect(raised.signal.subject.name).toMatch(/^docs \d{4}-\d\d-\d\d \d\d:\d\d UTC$/)
    expect(ids((await d.api('GET', '/v1/health')).body)).toEqual([`shrunk:archive:${shrunk}`])

    // The data back: the next archive is not shrunk, which clears the warning.
    writeFileSync(join(src, 'data.bin'), randomBytes(MiB))
    first.events.mark()
    expect((await runJob(d, job)).status).toBe('done')
    await first.events.waitFor(health('cleared', `shrunk:archive:${shrunk}`), 'shrunk cleared')
  })

  it("raises 'low-space' for an fs store under the free-space threshold, and clears it", async () => {
    process.env.BULWARK_LOW_SPACE_BYTES = String(10 ** 15)
    first.events.mark()
    // Any change to a schedule makes the daemon check.
    const trigger = await created(d, '/v1/schedules', { name: 'trigger', when: 'hourly' })
    const raised = await first.events.waitFor(
      health('raised', `low-space:store:${store}`),
      'low-space raised',
    )
    expect(raised.signal).toMatchObject({
      signal: 'low-space',
      subject: { kind: 'store', uuid: store, name: 'local' },
      details: { threshold_bytes: 10 ** 15, path: join(base, 'store') },
    })
    expect(raised.signal.details.free_bytes).toBeGreaterThan(0)
    expect(raised.signal.details.free_bytes).toBeLessThan(10 ** 15)

    process.env.BULWARK_LOW_SPACE_BYTES = '0'
    first.events.mark()
    expect((await d.api('DELETE', `/v1/schedule/${trigger}`)).status).toBe(200)
    await first.events.waitFor(health('cleared', `low-space:store:${store}`), 'low-space cleared')
  })

  it("raises 'verify-overdue' when the newest archive goes unverified, and a verify clears it", async () => {
    // The first job paused, so its schedule neither fires nor goes stale while the clock moves.
    expect((await d.api('POST', `/v1/job/${job}/pause`)).status).toBe(200)
    const weekly = await created(d, '/v1/schedules', {
      name: 'weekly',
      when: cronAt(clock.now() + 5 * DAY, true),
    })
    const parts = { name: 'verified', summary: '', target, store, schedule: weekly, retention }
    const verified = await created(d, '/v1/jobs', parts)
    const backup = await runJob(d, verified)
    expect(backup.status, backup.log).toBe('done')
    verifiedArchive = backup.archive_uuid

    clock.offsetMs += 3 * DAY
    // Daily verifies from now on, the first half a day away: none runs in this test.
    const daily = await created(d, '/v1/schedules', {
      name: 'verify daily',
      when: cronAt(clock.now() + DAY / 2),
    })
    first.events.mark()
    const put = await d.api('PUT', `/v1/job/${verified}`, { ...parts, verify_schedule: daily })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    const raised = await first.events.waitFor(
      health('raised', `verify-overdue:job:${verified}`),
      'verify-overdue raised',
    )
    expect(raised.signal).toMatchObject({
      signal: 'verify-overdue',
      subject: { kind: 'job', uuid: verified, name: 'verified' },
      details: { archive_uuid: backup.archive_uuid, last_verified: null, period_seconds: 86400 },
    })
    const report = (await d.api('GET', '/v1/health')).body as HealthReport
    expect(report.signals.map((s: HealthSignal) => s.signal)).toEqual(['verify-overdue'])

    first.events.mark()
    const verify = await d.api('POST', `/v1/archive/${backup.archive_uuid}/verify`, {})
    expect(verify.status, JSON.stringify(verify.body)).toBe(200)
    expect((await d.settled(verify.body.task_uuid, 30_000)).status).toBe('done')
    await first.events.waitFor(
      health('cleared', `verify-overdue:job:${verified}`),
      'verify-overdue cleared',
    )
  })

  it("raises 'invalid' when a verify finds an archive damaged, cleared when it is deleted", async () => {
    // Every chunk gone from the store: the verify proves the archive damaged.
    for (const chunk of chunkPaths(join(base, 'store'))) rmSync(chunk)
    first.events.mark()
    const verify = await d.api('POST', `/v1/archive/${verifiedArchive}/verify`, {})
    expect(verify.status, JSON.stringify(verify.body)).toBe(200)
    const task = await d.settled(verify.body.task_uuid, 30_000)
    expect(task.status).toBe('failed')
    const raised = await first.events.waitFor(
      health('raised', `invalid:archive:${verifiedArchive}`),
      'invalid raised',
    )
    expect(raised.signal).toMatchObject({
      signal: 'invalid',
      severity: 'failure',
      subject: { kind: 'archive', uuid: verifiedArchive },
      details: { store_uuid: store },
    })
    expect(raised.signal.message).toContain('failed verification')

    first.events.mark()
    expect((await d.api('DELETE', `/v1/archive/${verifiedArchive}`)).status).toBe(200)
    await first.events.waitFor(
      health('cleared', `invalid:archive:${verifiedArchive}`),
      'invalid cleared',
    )
  })
})
