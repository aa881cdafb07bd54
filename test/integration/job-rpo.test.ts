// A job's recovery point objective (rpo_seconds): set through the API and the
// CLI, kept by a PUT that leaves it out, cleared with null, refused out of
// range naming the field; `bulwark show job` says when the job turns stale.
// (When "stale" is raised with and without one: test/unit/health-signals.test.ts.)
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
let base: string
const refs = { target: '', store: '', schedule: '', retention: '' }

const created = async (path: string, body: unknown): Promise<string> => {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}
const cli = (...args: string[]) => runCli(args, { dataDir: d.dataDir })

beforeAll(async () => {
  d = await startDaemon()
  base = tempDir('bulwark-rpo-')
  mkdirSync(join(base, 'src'))
  refs.target = await created('/v1/targets', {
    name: 'docs',
    plugin: 'files',
    endpoint: { path: join(base, 'src') },
  })
  refs.store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(base, 'store') },
  })
  refs.schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
  refs.retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
})
afterAll(async () => {
  await d?.stop()
})

describe("a job's RPO", () => {
  it('is null by default, set, kept, cleared, and refused out of range', async () => {
    const job = await created('/v1/jobs', { name: 'plain', ...refs })
    const get = async () => (await d.api('GET', `/v1/job/${job}`)).body
    expect((await get()).rpo_seconds).toBeNull()
    const put = (extra: Record<string, unknown>) =>
      d.api('PUT', `/v1/job/${job}`, { name: 'plain', summary: '', ...refs, ...extra })

    expect((await put({ rpo_seconds: 6 * 3600 })).status).toBe(200)
    expect((await get()).rpo_seconds).toBe(6 * 3600)
    expect((await put({})).status).toBe(200)
    expect((await get()).rpo_seconds, 'left out of a PUT, it stays').toBe(6 * 3600)
    expect((await put({ rpo_seconds: null })).status).toBe(200)
    expect((await get()).rpo_seconds).toBeNull()

    const tooShort = await put({ rpo_seconds: 60 })
    expect(tooShort.status).toBe(400)
    expect(tooShort.body.error.field).toBe('rpo_seconds')
    expect(tooShort.body.error.message).toContain('rpo_seconds')
  })

  it('is set and shown by the CLI', async () => {
    const made = await cli(
      'create',
      'job',
      '--name',
      'cli-rpo',
      '--target',
      'docs',
      '--store',
      'local',
      '--schedule',
      'daily',
      '--retention',
      'week',
      '--rpo',
      '26h',
    )
    expect(made.stderr).toBe('')
    expect(made.code).toBe(0)
    const jobs = (await d.api('GET', '/v1/jobs')).body as any[]
    expect(jobs.find((j) => j.name === 'cli-rpo')?.rpo_seconds).toBe(26 * 3600)
    const shown = await cli('show', 'job', 'cli-rpo')
    expect(shown.stdout).toMatch(/Stale after: +.*\(its RPO\)/)

    const bad = await cli('edit', 'job', 'cli-rpo', '--rpo', 'soon')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--rpo "soon" is not a duration')

    expect((await cli('edit', 'job', 'cli-rpo', '--no-rpo')).code).toBe(0)
    expect((await cli('show', 'job', 'cli-rpo')).stdout).toMatch(
      /Stale after: +twice the schedule's period/,
    )
  })
})
