// A job's verify schedule on the real daemon, over HTTP. The daemon runs in
// this process so that its clock can be set: the first one, its clock
// stopped, makes a backup; the second, on the same data directory with its
// clock two minutes on, finds the job's minutely verify due (a run missed
// while the daemon was down runs once at start) and verifies the archive.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/daemon'
import { startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const base = tempDir('bulwark-verify-schedule-')
const dataDir = join(base, 'data')
const logLines: string[] = []
const running: InProcessDaemon[] = []

afterAll(async () => {
  for (const daemon of running) await daemon.close()
  rmSync(base, { recursive: true, force: true })
})

async function start(now: () => number): Promise<InProcessDaemon> {
  const daemon = await startInProcess({ dataDir, clock: { now }, log: logLines })
  running.push(daemon)
  return daemon
}

async function stop(daemon: InProcessDaemon): Promise<void> {
  running.splice(running.indexOf(daemon), 1)
  await daemon.close()
}

const api = (daemon: InProcessDaemon, method: string, path: string, body?: unknown) =>
  daemon.api(method, path, body)

async function created(daemon: InProcessDaemon, path: string, body: unknown): Promise<string> {
  const res = await api(daemon, 'POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

const settled = (daemon: InProcessDaemon, task: string) => daemon.settled(task, 30_000)

describe('a job with a verify schedule', () => {
  const stopped = Date.now()
  let first: InProcessDaemon
  let job: string
  let idle: string
  let archive: string
  let minutely: string

  it('takes a verify_schedule (a schedule uuid, or null) and shows it', async () => {
    first = await start(() => stopped)
    const src = join(base, 'src')
    mkdirSync(src)
    writeFileSync(join(src, 'data.txt'), 'verify me\n'.repeat(1000))
    const store = await created(first, '/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: join(base, 'store') },
    })
    const target = await created(first, '/v1/targets', {
      name: 'dir',
      plugin: 'files',
      endpoint: { path: src },
    })
    const weekly = await created(first, '/v1/schedules', {
      name: 'weekly',
      when: 'weekly at 2:30am on sundays',
    })
    minutely = await created(first, '/v1/schedules', { name: 'minutely', when: 'minutely' })
    const retention = await created(first, '/v1/retention', { name: 'week', expires: 7 * 86400 })
    const parts = { target, store, schedule: weekly, retention }

    const unknown = '6b8398be-fdc0-424a-8532-e812e5dfc116'
    const bad = await api(first, 'POST', '/v1/jobs', {
      name: 'bad',
      ...parts,
      verify_schedule: unknown,
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toEqual({
      code: 'validation',
      message: `no schedule with uuid ${unknown}`,
      field: 'verify_schedule',
    })
    const malformed = await api(first, 'POST', '/v1/jobs', {
      name: 'bad',
      ...parts,
      verify_schedule: 'minutely',
    })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.field).toBe('verify_schedule')

    job = await created(first, '/v1/jobs', {
      name: 'verified',
      ...parts,
      verify_schedule: minutely,
    })
    idle = await created(first, '/v1/jobs', { name: 'idle', ...parts, verify_schedule: minutely })
    const plain = await created(first, '/v1/jobs', { name: 'plain', ...parts })
    expect((await api(first, 'GET', `/v1/job/${job}`)).body).toMatchObject({
      verify_schedule_uuid: minutely,
      verify_schedule_name: 'minutely',
      verify_schedule: 'minutely',
      verify_timezone: 'UTC',
      next_verify: new Date((Math.floor(stopped / 60_000) + 1) * 60_000).toISOString(),
    })
    expect((await api(first, 'GET', `/v1/job/${plain}`)).body).toMatchObject({
      verify_schedule_uuid: null,
      verify_schedule: null,
      next_verify: null,
    })

    const inUse = await api(first, 'DELETE', `/v1/schedule/${minutely}`)
    expect(inUse.status).toBe(409)
    expect(inUse.body.error.code).toBe('conflict')
    expect(inUse.body.error.details.jobs.map((j: any) => j.name)).toEqual(['idle', 'verified'])
    const unused = (await api(first, 'GET', '/v1/schedules?unused=t')).body
    expect(unused.map((s: any) => s.uuid)).not.toContain(minutely)
  })

  it('verifies the newest valid archive when its verify schedule comes due', async () => {
    const run = await api(first, 'POST', `/v1/job/${job}/run`, { owner: 'test' })
    const backup = await settled(first, run.body.task_uuid)
    expect(backup.status, backup.log).toBe('done')
    archive = backup.archive_uuid
    // A stopped clock: nothing came due while the first daemon ran.
    const before = (await api(first, 'GET', '/v1/tasks?status=all')).body
    expect(before.filter((t: any) => t.type === 'verify')).toEqual([])
    await stop(first)

    const second = await start(() => Date.now() + 2 * 60_000)
    const tasks = (await api(second, 'GET', '/v1/tasks?status=all')).body
    const verifies = tasks.filter((t: any) => t.type === 'verify')
    expect(verifies).toHaveLength(1)
    expect(verifies[0]).toMatchObject({ owner: 'system', archive_uuid: archive, job_uuid: null })
    const done = await settled(second, verifies[0].uuid)
    expect(done.status, done.log).toBe('done')
    expect(done.log).toContain(
      `scheduled verify of job "verified": its newest valid archive, ${archive}`,
    )
    expect(done.log).toContain(`archive ${archive} is intact`)
    expect((await api(second, 'GET', `/v1/archive/${archive}`)).body.status).toBe('valid')
    // The job without an archive had nothing to verify, and said so.
    expect(logLines.join('')).toContain(
      'job "idle" is due for a verify, but it has no valid archive; nothing to verify',
    )
    expect(tasks.filter((t: any) => t.type === 'verify' && t.job_uuid === idle)).toEqual([])
    await stop(second)
  })
})
