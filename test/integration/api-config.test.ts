// Schedules, retention policies, targets, stores and jobs over real HTTP
// against the real daemon, including the bad inputs each must refuse.
import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
const SECRET = 'pg-Secret-Value-42'

beforeAll(async () => {
  d = await startDaemon()
})
afterAll(async () => {
  await d.stop()
})

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body.ok).toBe('created')
  expect(res.body.uuid).toMatch(/^[0-9a-f-]{36}$/)
  return res.body.uuid
}

function expectError(
  res: { status: number; body: any },
  status: number,
  code: string,
  field?: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expect(res.body.error.code).toBe(code)
  expect(typeof res.body.error.message).toBe('string')
  if (field !== undefined) expect(res.body.error.field).toBe(field)
  expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/)
}

describe('schedules', () => {
  it('creates, lists, shows, updates and deletes, with next runs', async () => {
    const uuid = await created('/v1/schedules', {
      name: 'Nightly',
      when: 'daily at 4am',
      timezone: 'UTC',
    })
    const one = await d.api('GET', `/v1/schedule/${uuid}`)
    expect(one.body).toMatchObject({
      uuid,
      name: 'Nightly',
      summary: '',
      when: 'daily at 4am',
      timezone: 'UTC',
    })
    expect(new Date(one.body.next_run).getUTCHours()).toBe(4)
    const list = await d.api('GET', '/v1/schedules')
    expect(list.body.map((s: any) => s.uuid)).toContain(uuid)
    const upd = await d.api('PUT', `/v1/schedule/${uuid}`, {
      name: 'Weekly',
      summary: 'sundays',
      when: 'weekly at 2:30am on sundays',
    })
    expect(upd.body).toEqual({ ok: 'updated' })
    const after = await d.api('GET', `/v1/schedule/${uuid}`)
    expect(after.body).toMatchObject({ name: 'Weekly', summary: 'sundays', timezone: 'UTC' })
    expect(new Date(after.body.next_run).getUTCDay()).toBe(0)
    expect((await d.api('DELETE', `/v1/schedule/${uuid}`)).body).toEqual({ ok: 'deleted' })
    expectError(await d.api('GET', `/v1/schedule/${uuid}`), 404, 'not_found')
  })

  it('accepts cron and stores the daemon timezone by default', async () => {
    const uuid = await created('/v1/schedules', { name: 'cron', when: '15 3 * * 1-5' })
    const s = (await d.api('GET', `/v1/schedule/${uuid}`)).body
    const status = (await d.api('GET', '/v1/status')).body
    expect(s.timezone).toBe(status.timezone)
  })

  it('refuses a schedule it cannot read, with an example', async () => {
    const res = await d.api('POST', '/v1/schedules', { name: 'bad', when: 'dayly 4am' })
    expectError(res, 400, 'invalid_schedule', 'when')
    expect(res.body.error.message).toMatch(/daily/)
    expectError(
      await d.api('POST', '/v1/schedules', {
        name: 'bad',
        when: 'daily 4am',
        timezone: 'Mars/Base',
      }),
      400,
      'validation',
      'timezone',
    )
    expectError(
      await d.api('POST', '/v1/schedules', { when: 'daily 4am' }),
      400,
      'validation',
      'name',
    )
  })

  it('requires summary on update, as SHIELD does', async () => {
    const uuid = await created('/v1/schedules', { name: 'x', when: 'hourly at 15' })
    expectError(
      await d.api('PUT', `/v1/schedule/${uuid}`, { name: 'x', when: 'hourly' }),
      400,
      'validation',
      'summary',
    )
  })

  it('previews the next runs in a timezone', async () => {
    const res = await d.api('POST', '/v1/schedules/preview', {
      when: 'daily at 4am',
      timezone: 'America/New_York',
      count: 3,
      from: '2026-03-07T12:00:00Z',
    })
    expect(res.status).toBe(200)
    expect(res.body.next).toEqual([
      '2026-03-08T08:00:00.000Z',
      '2026-03-09T08:00:00.000Z',
      '2026-03-10T08:00:00.000Z',
    ])
    expect(res.body.cron).toBe('0 4 * * *')
    expectError(
      await d.api('POST', '/v1/schedules/preview', { when: 'daily 4am', count: 0 }),
      400,
      'validation',
      'count',
    )
    expectError(
      await d.api('POST', '/v1/schedules/preview', { when: 'daily 4am', from: 'yesterday' }),
      400,
      'validation',
      'from',
    )
  })
})

describe('retention policies', () => {
  it('creates, shows, updates and deletes', async () => {
    const uuid = await created('/v1/retention', { name: '30 days', expires: 30 * 86400 })
    expect((await d.api('GET', `/v1/retention/${uuid}`)).body).toEqual({
      uuid,
      name: '30 days',
      summary: '',
      expires: 2592000,
      keep_min: 1,
    })
    expect(
      (
        await d.api('PUT', `/v1/retention/${uuid}`, {
          name: '7d',
          summary: 'a week',
          expires: 604800,
        })
      ).body,
    ).toEqual({ ok: 'updated' })
    expect((await d.api('GET', '/v1/retention')).body).toContainEqual({
      uuid,
      name: '7d',
      summary: 'a week',
      expires: 604800,
      keep_min: 1,
    })
    expect((await d.api('DELETE', `/v1/retention/${uuid}`)).status).toBe(200)
  })

  it('refuses expiry under an hour and wrong types', async () => {
    const res = await d.api('POST', '/v1/retention', { name: 'short', expires: 60 })
    expectError(res, 400, 'validation', 'expires')
    expect(res.body.error.message).toMatch(/3600/)
    expectError(
      await d.api('POST', '/v1/retention', { name: 'str', expires: '86400' }),
      400,
      'validation',
      'expires',
    )
    expectError(
      await d.api('POST', '/v1/retention', { name: 'frac', expires: 3600.5 }),
      400,
      'validation',
      'expires',
    )
    expectError(
      await d.api('POST', '/v1/retention', { name: 'x', expires: 3600, color: 'red' }),
      400,
      'validation',
      'color',
    )
  })
})

describe('targets and stores', () => {
  it('keeps secrets write-only: redacted on reads, absent from the catalog and the log', async () => {
    const uuid = await created('/v1/targets', {
      name: 'orders db',
      plugin: 'postgres',
      endpoint: JSON.stringify({
        host: 'db.internal',
        port: 5432,
        user: 'app',
        password: SECRET,
        database: 'orders',
      }),
      agent: '',
    })
    const one = (await d.api('GET', `/v1/target/${uuid}`)).body
    expect(one).toMatchObject({ uuid, name: 'orders db', plugin: 'postgres', agent: '' })
    expect(JSON.parse(one.endpoint)).toEqual({
      host: 'db.internal',
      port: 5432,
      user: 'app',
      password: '<redacted>',
      database: 'orders',
      all_databases: false,
      exclude_databases: [],
      connect_timeout: 15,
    })
    const everything = JSON.stringify([
      (await d.api('GET', '/v1/targets')).body,
      (await d.api('GET', `/v1/target/${uuid}`)).body,
    ])
    expect(everything).not.toContain(SECRET)
    const catalog = readFileSync(join(d.dataDir, 'catalog.db'))
    const wal = readFileSync(join(d.dataDir, 'catalog.db-wal'))
    expect(catalog.includes(SECRET)).toBe(false)
    expect(wal.includes(SECRET)).toBe(false)
    expect(readFileSync(join(d.dataDir, 'secrets.enc')).includes(SECRET)).toBe(false)
    expect(d.stderr.join('\n')).not.toContain(SECRET)

    // PUT with the redacted marker keeps the stored secret; an empty string clears it.
    const keep = {
      name: 'orders db',
      summary: 'prod',
      plugin: 'postgres',
      endpoint: { ...JSON.parse(one.endpoint), host: 'db2' },
    }
    expect((await d.api('PUT', `/v1/target/${uuid}`, keep)).body).toEqual({ ok: 'updated' })
    expect(JSON.parse((await d.api('GET', `/v1/target/${uuid}`)).body.endpoint)).toMatchObject({
      host: 'db2',
      password: '<redacted>',
    })
    await d.api('PUT', `/v1/target/${uuid}`, {
      ...keep,
      endpoint: { ...keep.endpoint, password: '' },
    })
    expect(
      JSON.parse((await d.api('GET', `/v1/target/${uuid}`)).body.endpoint).password,
    ).toBeUndefined()
  })

  it('accepts the endpoint as an object and fills defaults', async () => {
    const uuid = await created('/v1/targets', {
      name: 'defaults',
      plugin: 'postgres',
      endpoint: { database: 'x' },
    })
    expect(JSON.parse((await d.api('GET', `/v1/target/${uuid}`)).body.endpoint)).toEqual({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'x',
      all_databases: false,
      exclude_databases: [],
      connect_timeout: 15,
    })
  })

  it('validates the endpoint against the plugin fields', async () => {
    const base = { name: 't', plugin: 'postgres' }
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: { host: 'h' } }),
      400,
      'validation',
      'endpoint.database',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: { database: 'x', port: 'abc' } }),
      400,
      'validation',
      'endpoint.port',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: { database: 'x', port: 70000 } }),
      400,
      'validation',
      'endpoint.port',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: { database: 'x', hots: 'h' } }),
      400,
      'validation',
      'endpoint.hots',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: '{not json' }),
      400,
      'validation',
      'endpoint',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: '[1,2]' }),
      400,
      'validation',
      'endpoint',
    )
    expectError(
      await d.api('POST', '/v1/targets', { ...base, endpoint: 42 }),
      400,
      'validation',
      'endpoint',
    )
    const unknown = await d.api('POST', '/v1/targets', {
      name: 't',
      plugin: 'oracle',
      endpoint: {},
    })
    expectError(unknown, 400, 'unknown_plugin', 'plugin')
    expect(unknown.body.error.message).toMatch(/postgres/)
    // A store plugin is not a target plugin.
    expectError(
      await d.api('POST', '/v1/targets', { name: 't', plugin: 'fs', endpoint: { path: '/x' } }),
      400,
      'unknown_plugin',
      'plugin',
    )
    expectError(
      await d.api('POST', '/v1/stores', { name: 's', plugin: 'fs', endpoint: {} }),
      400,
      'validation',
      'endpoint.path',
    )
  })

  it('filters by plugin and usage', async () => {
    const fs1 = await created('/v1/stores', {
      name: 'disk',
      plugin: 'fs',
      endpoint: '{"path":"/tmp/x"}',
    })
    const byPlugin = (await d.api('GET', '/v1/stores?plugin=fs')).body
    expect(byPlugin.map((s: any) => s.uuid)).toContain(fs1)
    expect((await d.api('GET', '/v1/stores?plugin=s3')).body).toEqual([])
    expect((await d.api('GET', '/v1/stores?unused=t')).body.map((s: any) => s.uuid)).toContain(fs1)
    expect((await d.api('GET', '/v1/stores?unused=f')).body.map((s: any) => s.uuid)).not.toContain(
      fs1,
    )
    expectError(await d.api('GET', '/v1/stores?unused=maybe'), 400, 'validation', 'unused')
    expect(
      (
        await d.api('PUT', `/v1/store/${fs1}`, {
          name: 'disk2',
          summary: '',
          plugin: 'fs',
          endpoint: { path: '/tmp/y' },
        })
      ).body,
    ).toEqual({ ok: 'updated' })
    expect((await d.api('GET', `/v1/store/${fs1}`)).body).toEqual({
      uuid: fs1,
      name: 'disk2',
      summary: '',
      plugin: 'fs',
      endpoint: '{"path":"/tmp/y"}',
    })
  })
})

describe('jobs', () => {
  let target: string, store: string, schedule: string, retention: string, job: string

  beforeAll(async () => {
    target = await created('/v1/targets', {
      name: 'app',
      plugin: 'postgres',
      endpoint: { database: 'app', password: SECRET },
    })
    store = await created('/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: '/var/tmp/bk' },
    })
    schedule = await created('/v1/schedules', { name: 'daily', when: 'daily 4am', timezone: 'UTC' })
    retention = await created('/v1/retention', { name: 'week', expires: 604800 })
    job = await created('/v1/jobs', {
      name: 'app nightly',
      target,
      store,
      schedule,
      retention,
      paused: false,
    })
  })

  it('lists jobs denormalised, as SHIELD does', async () => {
    const one = (await d.api('GET', `/v1/job/${job}`)).body
    expect(one).toMatchObject({
      uuid: job,
      name: 'app nightly',
      summary: '',
      priority: 50,
      paused: false,
      retention_name: 'week',
      retention_uuid: retention,
      expiry: 604800,
      schedule_name: 'daily',
      schedule_uuid: schedule,
      schedule: 'daily 4am',
      store_uuid: store,
      store_plugin: 'fs',
      store_endpoint: '{"path":"/var/tmp/bk"}',
      target_uuid: target,
      target_plugin: 'postgres',
      last_run: null,
      last_status: null,
    })
    expect(JSON.parse(one.target_endpoint).password).toBe('<redacted>')
    expect(new Date(one.next_run).getUTCHours()).toBe(4)
    expect(JSON.stringify((await d.api('GET', '/v1/jobs')).body)).not.toContain(SECRET)
  })

  it('filters jobs', async () => {
    for (const q of [
      `target=${target}`,
      `store=${store}`,
      `schedule=${schedule}`,
      `retention=${retention}`,
      'paused=f',
    ]) {
      expect(
        (await d.api('GET', `/v1/jobs?${q}`)).body.map((j: any) => j.uuid),
        q,
      ).toContain(job)
    }
    expect((await d.api('GET', '/v1/jobs?paused=t')).body.map((j: any) => j.uuid)).not.toContain(
      job,
    )
    expect((await d.api('GET', `/v1/jobs?target=${store}`)).body).toEqual([])
    expectError(await d.api('GET', '/v1/jobs?target=nope'), 400, 'validation', 'target')
  })

  it('pauses, unpauses and runs', async () => {
    expect((await d.api('POST', `/v1/job/${job}/pause`)).body).toEqual({ ok: 'updated' })
    expect((await d.api('GET', `/v1/job/${job}`)).body).toMatchObject({
      paused: true,
      next_run: null,
    })
    expect((await d.api('GET', '/v1/jobs?paused=t')).body.map((j: any) => j.uuid)).toContain(job)
    expect((await d.api('POST', `/v1/job/${job}/unpause`)).body).toEqual({ ok: 'updated' })
    const run = await d.api('POST', `/v1/job/${job}/run`, { owner: 'alice' })
    expect(run.body.ok).toBe('scheduled')
    const task = (await d.api('GET', `/v1/task/${run.body.task_uuid}`)).body
    expect(task).toMatchObject({
      type: 'backup',
      owner: 'alice',
      job_uuid: job,
      target_uuid: target,
      store_uuid: store,
    })
    expect(['pending', 'running', 'failed', 'done']).toContain(task.status)
    const anon = await d.api('POST', `/v1/job/${job}/run`)
    expect((await d.api('GET', `/v1/task/${anon.body.task_uuid}`)).body.owner).toBe('anon')
    expect((await d.api('GET', `/v1/job/${job}`)).body.last_run).not.toBeNull()
  })

  it('refuses bad references, paused on update and a missing summary', async () => {
    const bogus = '00000000-0000-4000-8000-000000000000'
    expectError(
      await d.api('POST', '/v1/jobs', { name: 'j', target: bogus, store, schedule, retention }),
      400,
      'validation',
      'target',
    )
    expectError(
      await d.api('POST', '/v1/jobs', { name: 'j', target, store: 'xyz', schedule, retention }),
      400,
      'validation',
      'store',
    )
    expectError(
      await d.api('POST', '/v1/jobs', {
        name: 'j',
        target,
        store,
        schedule,
        retention,
        priority: 101,
      }),
      400,
      'validation',
      'priority',
    )
    expectError(
      await d.api('POST', '/v1/jobs', {
        name: 'j',
        target,
        store,
        schedule,
        retention,
        paused: 'no',
      }),
      400,
      'validation',
      'paused',
    )
    const upd = { name: 'j', summary: 's', target, store, schedule, retention }
    expectError(
      await d.api('PUT', `/v1/job/${job}`, { ...upd, paused: true }),
      400,
      'validation',
      'paused',
    )
    const { summary: _s, ...noSummary } = upd
    expectError(await d.api('PUT', `/v1/job/${job}`, noSummary), 400, 'validation', 'summary')
    expect((await d.api('PUT', `/v1/job/${job}`, { ...upd, priority: 5 })).body).toEqual({
      ok: 'updated',
    })
    expect((await d.api('GET', `/v1/job/${job}`)).body).toMatchObject({
      name: 'j',
      summary: 's',
      priority: 5,
    })
  })

  it('refuses to delete what a job uses (409, naming the job), then allows it', async () => {
    for (const [path, uuid] of [
      ['target', target],
      ['store', store],
      ['schedule', schedule],
      ['retention', retention],
    ]) {
      const res = await d.api('DELETE', `/v1/${path}/${uuid}`)
      expectError(res, 409, 'conflict')
      expect(res.body.error.message).toContain('"j"')
      expect(res.body.error.details.jobs).toEqual([{ uuid: job, name: 'j' }])
    }
    expect((await d.api('GET', '/v1/targets?unused=f')).body.map((t: any) => t.uuid)).toContain(
      target,
    )
    expect((await d.api('DELETE', `/v1/job/${job}`)).body).toEqual({ ok: 'deleted' })
    expect((await d.api('DELETE', `/v1/store/${store}`)).body).toEqual({ ok: 'deleted' })
    expectError(await d.api('DELETE', `/v1/store/${store}`), 404, 'not_found')
    expectError(await d.api('POST', `/v1/job/${job}/run`), 404, 'not_found')
  })

  it('never stores a secret in clear in the catalog rows', () => {
    const db = new Database(join(d.dataDir, 'catalog.db'), { readonly: true })
    const rows = JSON.stringify(db.prepare('SELECT * FROM targets').all())
    db.close()
    expect(rows).toContain('"database\\":\\"app\\"')
    expect(rows).not.toContain(SECRET)
  })
})
