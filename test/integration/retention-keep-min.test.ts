// Retention never expires the newest valid archive of a job (issue 10): the
// real daemon, run in this process so that its clock can move past an
// archive's expiry, over real HTTP. A job backs up once, then its directory
// goes missing, so every later backup fails; two hours on (the policy keeps
// archives one hour) the retention sweep has run, and the last good archive
// is still valid and restores, while the same story under keep_min 0 ends
// with the archive expired. Also the API's and the CLI's keep_min.
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const HOUR = 3600_000
const base = tempDir('bulwark-keep-min-')
const clock = new TestClock()
let d: InProcessDaemon
let store: string
let schedule: string

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

/** Runs the job now and waits for its task to end. */
async function run(job: string): Promise<any> {
  const res = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return d.settled(res.body.task_uuid)
}

const archive = async (uuid: string) => (await d.api('GET', `/v1/archive/${uuid}`)).body

/** A paused job (only run by hand) backing up a directory of its own, under a one-hour policy. */
async function job(name: string, keepMin: number) {
  const src = join(base, name)
  mkdirSync(src)
  writeFileSync(join(src, 'data.bin'), randomBytes(256 * 1024))
  writeFileSync(join(src, 'note.txt'), `the last good backup of ${name}\n`)
  const retention = await created('/v1/retention', {
    name: `${name}-hour`,
    expires: 3600,
    keep_min: keepMin,
  })
  const target = await created('/v1/targets', {
    name: `${name}-dir`,
    plugin: 'files',
    endpoint: { path: src },
  })
  const uuid = await created('/v1/jobs', {
    name,
    target,
    store,
    schedule,
    retention,
    paused: true,
  })
  return { uuid, src, retention }
}

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock })
  store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(base, 'store') },
  })
  schedule = await created('/v1/schedules', { name: 'weekly', when: 'weekly at 2:30am on sundays' })
})

afterAll(async () => {
  await d?.close()
  rmSync(base, { recursive: true, force: true })
})

describe('retention keep_min', () => {
  it('is 1 unless given, a whole number of 0 or more, and kept by a PUT without it', async () => {
    const uuid = await created('/v1/retention', { name: 'plain', expires: 7200 })
    expect((await d.api('GET', `/v1/retention/${uuid}`)).body).toEqual({
      uuid,
      name: 'plain',
      summary: '',
      expires: 7200,
      keep_min: 1,
    })
    for (const bad of [-1, 1.5, '2', null]) {
      const res = await d.api('POST', '/v1/retention', { name: 'x', expires: 7200, keep_min: bad })
      expect(res.status, String(bad)).toBe(400)
      expect(res.body.error.field, String(bad)).toBe('keep_min')
    }
    const put = (body: object) => d.api('PUT', `/v1/retention/${uuid}`, body)
    expect((await put({ name: 'plain', summary: '', expires: 7200, keep_min: 4 })).status).toBe(200)
    expect((await put({ name: 'plain', summary: 'same', expires: 7200 })).status).toBe(200)
    expect((await d.api('GET', `/v1/retention/${uuid}`)).body.keep_min).toBe(4)
    expect((await d.api('DELETE', `/v1/retention/${uuid}`)).status).toBe(200)
  })

  it('keeps the last good archive of a job whose backups keep failing past its retention', async () => {
    const kept = await job('kept', 1)
    const lost = await job('lost', 0)
    const good: Record<string, any> = {}
    for (const j of [kept, lost]) {
      const task = await run(j.uuid)
      expect(task.status, task.log).toBe('done')
      good[j.uuid] = await archive(task.archive_uuid)
      expect(good[j.uuid].status).toBe('valid')
    }
    const note = readFileSync(join(kept.src, 'note.txt'))
    const data = readFileSync(join(kept.src, 'data.bin'))
    // The data goes away: from now on every backup of both jobs fails.
    for (const j of [kept, lost]) {
      rmSync(j.src, { recursive: true })
      expect((await run(j.uuid)).status).toBe('failed')
    }
    // Two hours on, the archives are an hour past their expiry; the backups still fail.
    clock.offsetMs += 2 * HOUR
    for (const j of [kept, lost]) expect((await run(j.uuid)).status).toBe('failed')

    // The scheduler's housekeeping (its first pass on the moved clock) expires
    // the keep_min 0 job's archive; the same pass looked at the other one.
    const lostArchive = good[lost.uuid].uuid
    const deadline = Date.now() + 60_000
    while ((await archive(lostArchive)).status === 'valid') {
      if (Date.now() > deadline) throw new Error('the retention sweep did not run within 60 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(['expired', 'purged']).toContain((await archive(lostArchive)).status)
    expect(d.log.some((l) => l.includes('archive(s) expired'))).toBe(true)

    const keptArchive = await archive(good[kept.uuid].uuid)
    expect(keptArchive.status).toBe('valid')
    expect(Date.parse(keptArchive.expires_at)).toBeLessThan(clock.now())
    const valid = (await d.api('GET', `/v1/archives?job=${kept.uuid}&status=valid`)).body
    expect(valid.map((a: any) => a.uuid)).toEqual([keptArchive.uuid])

    // ... and it restores, byte for byte.
    const out = join(base, 'restored')
    const target = await created('/v1/targets', {
      name: 'restore-here',
      plugin: 'files',
      endpoint: { path: out },
    })
    const restore = await d.api('POST', `/v1/archive/${keptArchive.uuid}/restore`, { target })
    expect(restore.status, JSON.stringify(restore.body)).toBe(200)
    const task = await d.settled(restore.body.task_uuid)
    expect(task.status, task.log).toBe('done')
    expect(readFileSync(join(out, 'note.txt'))).toEqual(note)
    expect(sha(readFileSync(join(out, 'data.bin')))).toBe(sha(data))

    // A delete by hand is not held back by keep_min.
    const del = await d.api('DELETE', `/v1/archive/${keptArchive.uuid}`)
    expect(del.body.ok).toBe('deleted')
    expect(['expired', 'purged']).toContain((await archive(keptArchive.uuid)).status)
  })

  it('is set with --keep-min on the CLI and shown by list and show', async () => {
    const cli = async (...args: string[]) => {
      const res = await runCli(args, { dataDir: d.dataDir })
      expect(res.code, res.stderr).toBe(0)
      return res.stdout
    }
    await cli('create', 'retention', '--name', 'cli-keep', '--expires', '2h', '--keep-min', '3')
    expect(await cli('show', 'retention', 'cli-keep')).toMatch(
      /Always keeps: +newest 3 archives of each job/,
    )
    await cli('edit', 'retention', 'cli-keep', '--keep-min', '0')
    expect(JSON.parse(await cli('show', 'retention', 'cli-keep', '--json'))).toMatchObject({
      expires: 7200,
      keep_min: 0,
    })
    await cli('edit', 'retention', 'cli-keep', '--expires', '3h')
    const list = await cli('list', 'retention')
    expect(list).toMatch(/KEEP MIN/)
    expect(list.split('\n').find((l) => l.includes('cli-keep'))).toMatch(/cli-keep\s+3h\s+0\b/)
    const bad = await runCli(['edit', 'retention', 'cli-keep', '--keep-min', '-1'], {
      dataDir: d.dataDir,
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--keep-min must be at least 0')
  })
})
