// The rabbitmq target through the real, built daemon over HTTP, against the
// machine's RabbitMQ (management API on 127.0.0.1:15672): test an endpoint
// before saving it, back up a vhost with a job (twice: the second adds no
// chunk to the store, as the archive is the same bytes), download it as
// .json, restore it into another vhost and compare the definitions, and a
// restore with a wrong password that fails without showing it.
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as fx from '../fixtures/targets/rabbitmq'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'

const available = await fx.rabbitmqAvailable()

describe.skipIf(!available)('rabbitmq target through the daemon', () => {
  const n = fx.names('daemon')
  const SRC = n.vhost('src')
  const base = tempDir('bulwark-rabbitmq-daemon-')
  const storeDir = join(base, 'store')
  let d: RunningDaemon
  let store: string
  let job: string

  const created = async (path: string, body: unknown): Promise<string> => {
    const res = await d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.uuid as string
  }
  const target = (name: string, endpoint: Record<string, unknown>) =>
    created('/v1/targets', {
      name,
      plugin: 'rabbitmq',
      endpoint: { url: fx.MGMT_URL, password: fx.ADMIN.password, ...endpoint },
    })
  const chunkFiles = () =>
    readdirSync(join(storeDir, 'chunks'), { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    ).length

  beforeAll(async () => {
    await fx.seedVhost(SRC, n.user('app'))
    d = await startDaemon()
    store = await created('/v1/stores', { name: 'fs', plugin: 'fs', endpoint: { path: storeDir } })
    const schedule = await created('/v1/schedules', { name: 'daily', when: 'daily 4am' })
    const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
    const source = await target('rabbit src', { vhost: SRC })
    job = await created('/v1/jobs', { name: 'rabbit', target: source, store, schedule, retention })
  })
  afterAll(async () => {
    await d?.stop()
    await n.cleanup()
    rmSync(base, { recursive: true, force: true })
  })

  it('lists the plugin and tests an unsaved endpoint', async () => {
    const plugins = (await d.api('GET', '/v1/plugins')).body as { name: string; kind: string }[]
    expect(plugins.some((p) => p.name === 'rabbitmq' && p.kind === 'target')).toBe(true)
    const res = await d.api('POST', '/v1/targets/test', {
      plugin: 'rabbitmq',
      endpoint: { vhost: SRC, password: fx.ADMIN.password },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.ok, res.body.message).toBe(true)
    expect(res.body.message).toMatch(
      /^RabbitMQ 3\.\d+\.\d+ at http:\/\/127\.0\.0\.1:15672, vhost .*: 14 queues/,
    )
  })

  it('backs up with a job, twice (no new chunk), downloads .json, restores into another vhost', async () => {
    const first = await runTask(d, `/v1/job/${job}/run`)
    expect(first.status, first.log).toBe('done')
    expect(first.log).toMatch(new RegExp(`exported vhost "${SRC}" of RabbitMQ`))
    const chunks = chunkFiles()
    const second = await runTask(d, `/v1/job/${job}/run`)
    expect(second.status, second.log).toBe('done')
    expect(chunkFiles()).toBe(chunks)

    const [archive] = (await d.api('GET', `/v1/archives?job=${job}`)).body as { uuid: string }[]
    const download = await fetch(`${d.url}/v1/archive/${archive!.uuid}/download`, {
      headers: { authorization: `Bearer ${d.token}` },
    })
    expect(download.status).toBe(200)
    expect(download.headers.get('content-disposition')).toMatch(/\.json"$/)
    const defs = (await download.json()) as { queues: { name: string }[] }
    expect(defs.queues.map((q) => q.name)).toContain('app.quorum')

    const other = n.vhost('restored')
    const dest = await target('rabbit dest', { vhost: other })
    const restore = await runTask(d, `/v1/archive/${archive!.uuid}/restore`, { target: dest })
    expect(restore.status, restore.log).toBe('done')
    expect(restore.log).toContain(`created vhost "${other}"`)
    expect(await fx.exportVhost(other)).toEqual(await fx.exportVhost(SRC))
  })

  it('a restore with a wrong password fails, saying so, the password nowhere', async () => {
    const password = 'Daemon-Wrong-Secret-31'
    const [archive] = (await d.api('GET', `/v1/archives?job=${job}`)).body as { uuid: string }[]
    const dest = await target('rabbit wrong', { vhost: n.vhost('never'), password })
    const read = await d.api('GET', `/v1/target/${dest}`)
    expect(JSON.stringify(read.body)).not.toContain(password)
    const restore = await runTask(d, `/v1/archive/${archive!.uuid}/restore`, { target: dest })
    expect(restore.status).toBe('failed')
    expect(restore.error).toContain('wrong user name or password')
    expect(JSON.stringify(restore)).not.toContain(password)
    expect(d.stderr.join('\n')).not.toContain(password)
  })
})
