// The scheduler against a real catalog and the real services, with a clock
// moved by hand: when jobs fire, that they never pile up, missed runs,
// pausing, DEV mode, timezones and retention expiry.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { randomUUID } from 'node:crypto'
import { BulwarkError } from '../../src-daemon/contract'
import type { ArchiveStatus } from '../../src-daemon/contract'
import { Scheduler } from '../../src-daemon/scheduler/loop'
import { inProcess } from '../helpers/in-process'

type World = ReturnType<typeof inProcess>
let world: World | undefined
afterEach(() => world?.close())

function setup(startIso: string, opts: { catchUp?: boolean; devMode?: boolean } = {}) {
  world = inProcess(startIso)
  const w = world
  const scheduler = new Scheduler({
    clock: w.clock,
    log: w.log,
    jobs: () => w.services.jobs.schedulable(),
    fire: (job) => w.services.jobs.runScheduled(job.uuid),
    markFired: (uuid, at) => w.services.jobs.markFired(uuid, at),
    housekeeping: () => w.services.archives.expireDue(),
    housekeepingMs: 60_000,
    ...opts,
  })
  const backups = (job?: string) =>
    w.catalog.tasks.list({ job_uuid: job }).filter((t) => t.op === 'backup')
  const finishAll = () => {
    for (const t of w.catalog.tasks.list({ statuses: ['pending'] })) w.queue.finish(t.uuid, 'done')
  }
  return { w, scheduler, backups, finishAll }
}

describe('scheduler', () => {
  it('fires a daily job at its time, once, owned by system', () => {
    const { w, scheduler, backups } = setup('2026-01-01T00:00:00Z')
    const job = w.job('daily at 4am')
    w.clock.set('2026-01-01T03:59:59Z')
    expect(scheduler.tick()).toBe(Date.parse('2026-01-01T04:00:00Z'))
    expect(backups(job)).toHaveLength(0)
    w.clock.set('2026-01-01T04:00:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(1)
    expect(backups(job)[0]).toMatchObject({ owner: 'system', status: 'pending', priority: 50 })
    w.clock.set('2026-01-01T04:00:30Z')
    expect(scheduler.tick()).toBe(Date.parse('2026-01-02T04:00:00Z'))
    expect(backups(job)).toHaveLength(1)
  })

  it('never queues a job twice while its previous backup is unfinished', () => {
    const { w, scheduler, backups, finishAll } = setup('2026-01-01T00:00:00Z')
    const job = w.job('hourly at 15')
    w.clock.set('2026-01-01T00:15:00Z')
    scheduler.tick()
    w.clock.set('2026-01-01T01:15:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(1)
    finishAll()
    w.clock.set('2026-01-01T02:15:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(2)
  })

  it('runs a schedule missed while the daemon was down once at start, or not at all with catch-up off', () => {
    const on = setup('2026-01-01T00:00:00Z')
    const job = on.w.job('daily at 4am')
    on.w.clock.set('2026-01-05T10:00:00Z')
    on.scheduler.tick()
    expect(on.backups(job)).toHaveLength(1)
    on.w.close()

    const off = setup('2026-01-01T00:00:00Z', { catchUp: false })
    const job2 = off.w.job('daily at 4am')
    off.w.clock.set('2026-01-05T10:00:00Z')
    off.scheduler.tick()
    expect(off.backups(job2)).toHaveLength(0)
    off.w.clock.set('2026-01-06T04:00:00Z')
    off.scheduler.tick()
    expect(off.backups(job2)).toHaveLength(1)
  })

  it('does not fire a paused job, nor catch up when it is unpaused', () => {
    const { w, scheduler, backups } = setup('2026-01-01T00:00:00Z')
    const job = w.job('daily at 4am', { paused: true })
    w.clock.set('2026-01-01T04:00:00Z')
    scheduler.tick()
    w.clock.set('2026-01-03T05:00:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(0)
    w.services.jobs.setPaused(job, false)
    w.clock.set('2026-01-03T05:01:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(0)
    w.clock.set('2026-01-04T04:00:00Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(1)
  })

  it('honours the schedule timezone across a DST change', () => {
    const { w, scheduler, backups, finishAll } = setup('2026-03-06T12:00:00Z')
    const job = w.job('daily at 4am', { timezone: 'America/New_York' })
    w.clock.set('2026-03-07T08:59:59Z')
    scheduler.tick()
    expect(backups(job)).toHaveLength(0)
    w.clock.set('2026-03-07T09:00:00Z') // 4am EST
    scheduler.tick()
    finishAll()
    w.clock.set('2026-03-08T08:00:00Z') // 4am EDT
    scheduler.tick()
    expect(backups(job).map((t) => new Date(t.requested_at).toISOString())).toEqual([
      '2026-03-08T08:00:00.000Z',
      '2026-03-07T09:00:00.000Z',
    ])
  })

  it('in DEV mode fires every schedule every minute', () => {
    const { w, scheduler, backups, finishAll } = setup('2026-01-01T00:00:10Z', { devMode: true })
    const job = w.job('monthly at 2:05 on 14th')
    for (let minute = 1; minute <= 3; minute++) {
      w.clock.set(`2026-01-01T00:0${minute}:00Z`)
      scheduler.tick()
      finishAll()
    }
    expect(backups(job)).toHaveLength(3)
  })

  it('expires archives past their retention and queues their purge', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const job = w.job('daily at 4am')
    const row = w.catalog.jobs.get(job)!
    const insert = (expires: string, taken = '2025-12-01T00:00:00Z') => {
      const uuid = randomUUID()
      w.catalog.archives.insert({
        uuid,
        job_uuid: job,
        target_uuid: row.target_uuid,
        store_uuid: row.store_uuid,
        store_key: `k/${uuid}`,
        taken_at: Date.parse(taken),
        expires_at: Date.parse(expires),
        notes: '',
        status: 'valid',
        target_plugin: 'faketarget',
        size: 1,
        purged_at: null,
      })
      return uuid
    }
    const old = insert('2026-01-01T00:30:00Z')
    // The newest: retention's keep_min (1) would keep it anyway.
    const fresh = insert('2026-02-01T00:00:00Z', '2025-12-02T00:00:00Z')
    w.clock.set('2026-01-01T01:00:00Z')
    scheduler.tick()
    expect(w.catalog.archives.get(old)?.status).toBe('expired')
    expect(w.catalog.archives.get(fresh)?.status).toBe('valid')
    const purges = w.catalog.tasks.list().filter((t) => t.op === 'purge')
    expect(purges.map((t) => t.archive_uuid)).toEqual([old])
    expect(purges[0]?.owner).toBe('system')
  })
})

describe('scheduled verify', () => {
  /** An archive of the job, taken at `taken`. */
  function archive(w: World, job: string, taken: string, status: ArchiveStatus = 'valid') {
    const row = w.catalog.jobs.get(job)!
    const uuid = randomUUID()
    w.catalog.archives.insert({
      uuid,
      job_uuid: job,
      target_uuid: row.target_uuid,
      store_uuid: row.store_uuid,
      store_key: `manifests/${uuid}`,
      taken_at: Date.parse(taken),
      expires_at: Date.parse('2027-01-01T00:00:00Z'),
      notes: '',
      status,
      target_plugin: 'faketarget',
      size: 1,
      purged_at: null,
    })
    return uuid
  }
  const verifies = (w: World) => w.catalog.tasks.list().filter((t) => t.op === 'verify')

  it("queues a verify of the job's newest valid archive on the verify schedule, owned by system", () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const job = w.job('weekly at 2:30am on sundays', { verify: 'daily at 6am' })
    archive(w, job, '2025-12-30T04:00:00Z')
    const newest = archive(w, job, '2025-12-31T04:00:00Z')
    archive(w, job, '2025-12-31T12:00:00Z', 'invalid')
    w.clock.set('2026-01-01T05:59:59Z')
    expect(scheduler.tick()).toBe(Date.parse('2026-01-01T06:00:00Z'))
    expect(verifies(w)).toHaveLength(0)
    w.clock.set('2026-01-01T06:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(1)
    const task = verifies(w)[0]!
    expect(task).toMatchObject({ owner: 'system', status: 'pending', archive_uuid: newest })
    expect(w.catalog.tasks.logs(task.uuid).map((l) => l.line)).toContain(
      `scheduled verify of job "job weekly at 2:30am on sundays": its newest valid archive, ${newest}`,
    )
    expect(w.catalog.tasks.list().filter((t) => t.op === 'backup')).toHaveLength(0)
    w.clock.set('2026-01-01T06:00:30Z')
    expect(scheduler.tick()).toBe(Date.parse('2026-01-02T06:00:00Z'))
    expect(verifies(w)).toHaveLength(1)
    expect(w.services.jobs.get(job)).toMatchObject({
      verify_schedule: 'daily at 6am',
      verify_schedule_name: 'vsch',
      verify_timezone: 'UTC',
      next_verify: '2026-01-02T06:00:00.000Z',
    })
  })

  it('queues nothing when the job has no valid archive, and says so', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const info = vi.spyOn(w.log, 'info')
    const job = w.job('weekly at 2:30am on sundays', { verify: 'hourly at 0' })
    archive(w, job, '2025-12-31T04:00:00Z', 'invalid')
    archive(w, job, '2025-12-30T04:00:00Z', 'expired')
    w.clock.set('2026-01-01T01:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(0)
    expect(info).toHaveBeenCalledWith(
      'job "job weekly at 2:30am on sundays" is due for a verify, but it has no valid archive; nothing to verify',
    )
    // The next valid archive is verified at the next run.
    const fresh = archive(w, job, '2026-01-01T01:30:00Z')
    w.clock.set('2026-01-01T02:00:00Z')
    scheduler.tick()
    expect(verifies(w).map((t) => t.archive_uuid)).toEqual([fresh])
  })

  it('never verifies an archive twice at once', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const job = w.job('weekly at 2:30am on sundays', { verify: 'hourly at 0' })
    const only = archive(w, job, '2025-12-31T04:00:00Z')
    w.clock.set('2026-01-01T01:00:00Z')
    scheduler.tick()
    w.clock.set('2026-01-01T02:00:00Z')
    scheduler.tick() // the first is still pending
    expect(verifies(w)).toHaveLength(1)
    const claimed = w.queue.claim()
    expect(claimed?.task.archive_uuid).toBe(only)
    w.clock.set('2026-01-01T03:00:00Z')
    scheduler.tick() // ... and now running
    expect(verifies(w)).toHaveLength(1)
    // One asked for by hand waits while the scheduled one runs.
    const manual = w.services.archives.verify(only, 'alice')
    expect(w.queue.claim()).toBeUndefined()
    w.queue.finish(claimed!.task.uuid, 'done')
    expect(w.queue.claim()?.task.uuid).toBe(manual.uuid)
    w.queue.finish(manual.uuid, 'done')
    w.clock.set('2026-01-01T04:00:00Z')
    scheduler.tick()
    expect(verifies(w).filter((t) => t.owner === 'system')).toHaveLength(2)
  })

  it('does not verify while the job is paused, nor catch up when it is unpaused', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const job = w.job('weekly at 2:30am on sundays', { verify: 'daily at 6am', paused: true })
    archive(w, job, '2025-12-31T04:00:00Z')
    w.clock.set('2026-01-01T06:00:00Z')
    scheduler.tick()
    w.clock.set('2026-01-03T07:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(0)
    expect(w.services.jobs.get(job).next_verify).toBeNull()
    w.services.jobs.setPaused(job, false)
    w.clock.set('2026-01-03T07:01:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(0)
    w.clock.set('2026-01-04T06:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(1)
  })

  it('skips a verify missed while the daemon was down when catch-up is off', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z', { catchUp: false })
    const job = w.job('weekly at 2:30am on sundays', { verify: 'daily at 6am' })
    archive(w, job, '2025-12-31T04:00:00Z')
    w.clock.set('2026-01-01T10:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(0)
    w.clock.set('2026-01-02T06:00:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(1)
  })

  it('counts a verify schedule set on an existing job from when it was set', () => {
    const { w, scheduler } = setup('2026-01-01T00:00:00Z')
    const job = w.job('weekly at 2:30am on sundays')
    archive(w, job, '2025-12-31T04:00:00Z')
    const hourly = w.services.schedules.create({ name: 'hourly', when: 'hourly at 30' })
    w.clock.set('2026-01-01T10:00:00Z')
    scheduler.tick()
    const row = w.catalog.jobs.get(job)!
    const update = {
      name: row.name,
      summary: '',
      target: row.target_uuid,
      store: row.store_uuid,
      schedule: row.schedule_uuid,
      retention: row.retention_uuid,
    }
    w.services.jobs.update(job, { ...update, verify_schedule: hourly })
    scheduler.tick()
    expect(verifies(w)).toHaveLength(0)
    w.clock.set('2026-01-01T10:30:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(1)
    // Left out of an update, it stays; null removes it.
    w.services.jobs.update(job, update)
    expect(w.catalog.jobs.get(job)?.verify_schedule_uuid).toBe(hourly)
    w.services.jobs.update(job, { ...update, verify_schedule: null })
    expect(w.services.jobs.get(job)).toMatchObject({
      verify_schedule_uuid: null,
      verify_schedule: null,
      next_verify: null,
    })
    w.clock.set('2026-01-01T11:30:00Z')
    scheduler.tick()
    expect(verifies(w)).toHaveLength(1)
  })

  it('refuses an unknown verify schedule (naming the field) and the delete of one in use', () => {
    world = inProcess('2026-01-01T00:00:00Z')
    const w = world
    const job = w.job('weekly at 2:30am on sundays', { verify: 'daily at 6am' })
    const row = w.catalog.jobs.get(job)!
    const unknown = randomUUID()
    const attempt = () =>
      w.services.jobs.create({
        name: 'other',
        target: row.target_uuid,
        store: row.store_uuid,
        schedule: row.schedule_uuid,
        retention: row.retention_uuid,
        verify_schedule: unknown,
      })
    expect(attempt).toThrow(BulwarkError)
    expect(attempt).toThrow(
      expect.objectContaining({ code: 'validation', field: 'verify_schedule' }),
    )
    const verifySchedule = row.verify_schedule_uuid!
    expect(() => w.services.schedules.delete(verifySchedule)).toThrow(
      expect.objectContaining({
        code: 'conflict',
        details: { jobs: [{ uuid: job, name: row.name }] },
      }),
    )
    expect(w.services.schedules.list({ unused: true })).toEqual([])
    expect(
      w.services.schedules
        .list({ unused: false })
        .map((s) => s.uuid)
        .sort(),
    ).toEqual([row.schedule_uuid, verifySchedule].sort())
  })
})
