// Notification channels against the real built daemon and a real HTTP
// receiver started here: CRUD and its 400s naming the field, secrets
// write-only (redacted on read, kept on PUT with <redacted>, never in the
// daemon's log), test sends recorded as last_delivery, a broken job that
// notifies once over three failing runs and once when it recovers, a
// receiver that fails twice before it answers (retries), and the CLI.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, waitForLog, type RunningDaemon } from '../helpers/daemon'
import { Receiver } from '../helpers/http-receiver'
import { runTask } from '../helpers/tasks'
import { chunkPaths } from '../helpers/vault-bench'

const SLACK_TOKEN = 'T0SLACK/B0HOOK/sl4ckS3cretT0ken'
const HEADER_SECRET = 'Bearer hdr-S3cret-9f8e7d'
const NTFY_TOKEN = 'tk_ntfyS3cret42'
const CLI_SECRET_PATH = 'cli-S3cret-path-77'
const SECRETS = [SLACK_TOKEN, HEADER_SECRET, 'hdr-S3cret-9f8e7d', NTFY_TOKEN, CLI_SECRET_PATH]

let d: RunningDaemon
const rx = new Receiver()
const dataDir = tempDir()
const ids = { store: '', schedule: '', retention: '', broken: '', flaky: '', other: '' }

const post = async (path: string, body: unknown) => {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

/** A job whose exec target cats `file`: failing until the file exists. */
async function jobReading(name: string, file: string): Promise<string> {
  const target = await post('/v1/targets', {
    name,
    plugin: 'exec',
    endpoint: { backup_command: `cat ${file}`, restore_command: 'cat >/dev/null' },
  })
  return post('/v1/jobs', {
    name,
    target,
    store: ids.store,
    schedule: ids.schedule,
    retention: ids.retention,
  })
}

beforeAll(async () => {
  await rx.start()
  d = await startDaemon({ env: { BULWARK_NOTIFY_RETRY_MS: '50,100,200' } })
  ids.store = await post('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(dataDir, 'store'), vault_password: 'correct horse battery' },
  })
  ids.schedule = await post('/v1/schedules', { name: 'weekly', when: 'weekly at 2am on sundays' })
  ids.retention = await post('/v1/retention', { name: 'day', expires: 86400 })
  mkdirSync(join(dataDir, 'src'))
  ids.broken = await jobReading('nightly-db', join(dataDir, 'src', 'dump.sql'))
  ids.flaky = await jobReading('flaky-db', join(dataDir, 'src', 'missing-forever'))
  ids.other = await jobReading('other-db', join(dataDir, 'src', 'missing-too'))
})
afterAll(async () => {
  await d?.stop()
  await rx.stop()
})

describe('channel resource', () => {
  it('lists the nine kinds with their settings, secrets marked', async () => {
    const res = await d.api('GET', '/v1/channel-kinds')
    expect(res.status).toBe(200)
    expect(res.body.map((k: { kind: string }) => k.kind)).toEqual([
      'webhook',
      'slack',
      'discord',
      'teams',
      'ntfy',
      'gotify',
      'telegram',
      'email',
      'healthchecks',
    ])
    const slack = res.body.find((k: { kind: string }) => k.kind === 'slack')
    expect(slack.fields.find((f: { name: string }) => f.name === 'webhook_url').secret).toBe(true)
  })

  it('refuses bad bodies with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', kind: 'pager', settings: {} }, 'kind'],
      [{ name: 'x', kind: 'webhook', settings: {} }, 'settings.url'],
      [{ name: 'x', kind: 'webhook', settings: { url: rx.url, colour: 'red' } }, 'settings.colour'],
      [{ name: 'x', kind: 'webhook', settings: { url: 'ftp://example.com' } }, 'settings.url'],
      [
        { name: 'x', kind: 'slack', settings: { webhook_url: 'not a url ' + SLACK_TOKEN } },
        'settings.webhook_url',
      ],
      [
        { name: 'x', kind: 'webhook', settings: { url: rx.url }, events: ['backup.exploded'] },
        'events.0',
      ],
      [
        {
          name: 'x',
          kind: 'webhook',
          settings: { url: rx.url },
          jobs: ['6b8398be-fdc0-424a-8532-e812e5dfc116'],
        },
        'jobs',
      ],
      [
        { name: 'x', kind: 'webhook', settings: { url: rx.url }, reminder_hours: -1 },
        'reminder_hours',
      ],
      [{ name: '', kind: 'webhook', settings: { url: rx.url } }, 'name'],
    ]
    for (const [body, field] of cases) {
      const res = await d.api('POST', '/v1/channels', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.field, JSON.stringify(res.body)).toBe(field)
      expect(JSON.stringify(res.body)).not.toContain(SLACK_TOKEN)
    }
    expect((await d.api('GET', '/v1/channels')).body).toEqual([])
  })

  it('creates, reads with secrets redacted, keeps secrets on PUT with <redacted>, deletes', async () => {
    const uuid = await post('/v1/channels', {
      name: 'ops-slack',
      kind: 'slack',
      settings: { webhook_url: `${rx.url}/services/${SLACK_TOKEN}` },
    })
    const read = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(read).toMatchObject({
      uuid,
      name: 'ops-slack',
      kind: 'slack',
      settings: { webhook_url: '<redacted>' },
      jobs: null,
      reminder_hours: 24,
      enabled: true,
      last_delivery: null,
    })
    expect(read.events).toContain('backup.failed')
    expect(read.events).not.toContain('backup.succeeded')
    const dup = await d.api('POST', '/v1/channels', {
      name: 'ops-slack',
      kind: 'webhook',
      settings: { url: rx.url },
    })
    expect(dup.status).toBe(409)
    expect(dup.body.error.field).toBe('name')

    const { name: _n, kind, settings, events, jobs, reminder_hours, enabled } = read
    const ok = await d.api('PUT', `/v1/channel/${uuid}`, {
      name: 'ops',
      kind,
      settings,
      events,
      jobs,
      reminder_hours,
      enabled,
    })
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    const after = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(after.name).toBe('ops')
    expect(after.settings.webhook_url).toBe('<redacted>')
    // The kept URL is the one used: the test lands on the secret path.
    const test = await d.api('POST', `/v1/channel/${uuid}/test`)
    expect(test.status).toBe(200)
    expect(test.body, JSON.stringify(test.body)).toMatchObject({
      ok: true,
      attempts: 1,
      event: 'test',
    })
    const [hit] = await rx.waitFor(`/services/${SLACK_TOKEN}`)
    expect(JSON.parse(hit!.body).text ?? hit!.body).toContain('ops')

    expect((await d.api('DELETE', `/v1/channel/${uuid}`)).status).toBe(200)
    expect((await d.api('GET', `/v1/channel/${uuid}`)).status).toBe(404)
  })

  it('keeps a secret header list on PUT with <redacted>, and sends it', async () => {
    const uuid = await post('/v1/channels', {
      name: 'hook',
      kind: 'webhook',
      settings: {
        url: `${rx.url}/hook`,
        headers: ['X-Source: bulwark'],
        secret_headers: [`Authorization: ${HEADER_SECRET}`],
      },
    })
    const read = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(read.settings).toMatchObject({
      url: `${rx.url}/hook`,
      headers: ['X-Source: bulwark'],
      secret_headers: '<redacted>',
    })
    const { name, kind, settings, events } = read
    const put = await d.api('PUT', `/v1/channel/${uuid}`, {
      name,
      kind,
      settings: { ...settings, method: 'PUT' },
      events,
    })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    // Sent back as a list of one <redacted> entry (as a list field's form holds it): kept too.
    const put2 = await d.api('PUT', `/v1/channel/${uuid}`, {
      name,
      kind,
      settings: { ...settings, method: 'PUT', secret_headers: ['<redacted>'] },
      events,
    })
    expect(put2.status, JSON.stringify(put2.body)).toBe(200)
    const test = (await d.api('POST', `/v1/channel/${uuid}/test`)).body
    expect(test.ok, test.detail).toBe(true)
    const [hit] = await rx.waitFor('/hook')
    expect(hit!.method).toBe('PUT')
    expect(hit!.headers.authorization).toBe(HEADER_SECRET)
    expect(hit!.headers['x-source']).toBe('bulwark')
    expect(JSON.parse(hit!.body)).toMatchObject({ event: 'test', severity: 'info' })
    const again = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(again.last_delivery).toMatchObject({ ok: true, attempts: 1, event: 'test' })
  })

  it('a refused test is an answer with the receiver words, recorded as the last delivery', async () => {
    const uuid = await post('/v1/channels', {
      name: 'refused',
      kind: 'webhook',
      settings: { url: `${rx.url}/refuse` },
    })
    const res = await d.api('POST', `/v1/channel/${uuid}/test`)
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(false)
    expect(res.body.detail).toContain('400')
    expect(res.body.detail).toContain('no such hook here')
    const read = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(read.last_delivery).toMatchObject({ ok: false, attempts: 1, event: 'test' })
    await d.api('DELETE', `/v1/channel/${uuid}`)
  })

  it('tests a channel not saved yet, and saves nothing', async () => {
    const before = (await d.api('GET', '/v1/channels')).body.length
    const res = await d.api('POST', '/v1/channels/test', {
      name: 'draft',
      kind: 'webhook',
      settings: { url: `${rx.url}/draft` },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ ok: true, attempts: 1, event: 'test' })
    await rx.waitFor('/draft')
    const bad = await d.api('POST', '/v1/channels/test', {
      name: 'draft',
      kind: 'webhook',
      settings: {},
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('settings.url')
    expect((await d.api('GET', '/v1/channels')).body).toHaveLength(before)
  })

  it('sends to ntfy with its token', async () => {
    const uuid = await post('/v1/channels', {
      name: 'phone',
      kind: 'ntfy',
      settings: { server: rx.url, topic: 'bulwark-alerts', token: NTFY_TOKEN },
    })
    expect((await d.api('GET', `/v1/channel/${uuid}`)).body.settings.token).toBe('<redacted>')
    const res = (await d.api('POST', `/v1/channel/${uuid}/test`)).body
    expect(res.ok, res.detail).toBe(true)
    const hits = rx.got.filter(
      (r) => r.path.includes('bulwark-alerts') || r.body.includes('"topic":"bulwark-alerts"'),
    )
    expect(hits.length).toBeGreaterThan(0)
    expect(hits[0]!.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`)
    await d.api('DELETE', `/v1/channel/${uuid}`)
  })
})

describe('rules', () => {
  it('a broken job notifies once over three failing runs, then once when it recovers', async () => {
    const alerts = await post('/v1/channels', {
      name: 'alerts',
      kind: 'webhook',
      settings: { url: `${rx.url}/alerts` },
      jobs: [ids.broken],
    })
    const elsewhere = await post('/v1/channels', {
      name: 'elsewhere',
      kind: 'webhook',
      settings: { url: `${rx.url}/elsewhere` },
      jobs: [ids.other],
    })
    const tasks: string[] = []
    for (let run = 1; run <= 3; run++) {
      const task = await runTask(d, `/v1/job/${ids.broken}/run`)
      expect(task.status).toBe('failed')
      tasks.push(task.uuid)
      if (run > 1)
        await waitForLog(d, '"alerts" not told that job "nightly-db" failed (told at', {
          count: run - 1,
        })
    }
    const [first] = await rx.waitFor('/alerts')
    const notice = JSON.parse(first!.body)
    expect(notice).toMatchObject({
      event: 'backup.failed',
      severity: 'failure',
      job: { uuid: ids.broken, name: 'nightly-db' },
    })
    expect(notice.title).toContain('nightly-db')
    expect(notice.body).toContain('Target: nightly-db')
    expect(notice.body).toContain('Store: local')
    expect(notice.body).toContain('Error: ')
    expect(notice.task.url).toBe(`${d.url}/#/tasks/${tasks[0]}`)
    expect(rx.at('/alerts')).toHaveLength(1)

    writeFileSync(join(dataDir, 'src', 'dump.sql'), 'CREATE TABLE t (x int);\n')
    const fixed = await runTask(d, `/v1/job/${ids.broken}/run`)
    expect(fixed.status, fixed.log).toBe('done')
    const [, second] = await rx.waitFor('/alerts', 2)
    expect(JSON.parse(second!.body)).toMatchObject({
      event: 'backup.recovered',
      severity: 'recovery',
    })
    // Another success is not news to a failures-only channel.
    expect((await runTask(d, `/v1/job/${ids.broken}/run`)).status).toBe('done')
    await waitForLog(d, '"alerts" not told that job "nightly-db" succeeded')
    await waitForLog(d, (l) => l.includes('"alerts"') && l.includes('delivered'), { count: 2 })
    expect(rx.at('/alerts')).toHaveLength(2)
    expect(rx.at('/elsewhere')).toHaveLength(0)
    const read = (await d.api('GET', `/v1/channel/${alerts}`)).body
    expect(read.last_delivery).toMatchObject({ ok: true, event: 'backup.recovered', attempts: 1 })
    await d.api('DELETE', `/v1/channel/${alerts}`)
    await d.api('DELETE', `/v1/channel/${elsewhere}`)
  })

  it('verify that finds damage notifies once, though the health check says so too', async () => {
    const uuid = await post('/v1/channels', {
      name: 'damage',
      kind: 'webhook',
      settings: { url: `${rx.url}/damage` },
      jobs: [ids.broken],
    })
    const archives = (await d.api('GET', `/v1/archives?job=${ids.broken}`)).body
    expect(archives.length).toBeGreaterThan(0)
    rmSync(chunkPaths(join(dataDir, 'store'))[0]!)
    const verify = await runTask(d, `/v1/archive/${archives[0].uuid}/verify`)
    expect(verify.status).toBe('failed')
    const [hit] = await rx.waitFor('/damage')
    const notice = JSON.parse(hit!.body)
    expect(notice).toMatchObject({ event: 'verify.damage', severity: 'failure' })
    expect(notice.title).toContain('nightly-db')
    expect(notice.task.url).toBe(`${d.url}/#/tasks/${verify.uuid}`)
    // The health check raises 'invalid' for the same archive: not a second notice.
    await waitForLog(d, '"damage" already told about archive:' + archives[0].uuid)
    expect(rx.at('/damage')).toHaveLength(1)
    await d.api('DELETE', `/v1/channel/${uuid}`)
  })

  it('pings a healthchecks channel at each start and end, failures included', async () => {
    const uuid = await post('/v1/channels', {
      name: 'hc',
      kind: 'healthchecks',
      settings: { ping_url: `${rx.url}/hc/check-1` },
      jobs: [ids.flaky],
    })
    const read = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(read.events).toEqual([
      'backup.started',
      'backup.succeeded',
      'backup.failed',
      'backup.recovered',
    ])
    expect((await runTask(d, `/v1/job/${ids.flaky}/run`)).status).toBe('failed')
    expect((await runTask(d, `/v1/job/${ids.flaky}/run`)).status).toBe('failed')
    await rx.waitFor('/hc/check-1/start', 2)
    await rx.waitFor('/hc/check-1/fail', 2)
    await d.api('DELETE', `/v1/channel/${uuid}`)
  })

  it('tells a channel that asks for it that a restore finished', async () => {
    const uuid = await post('/v1/channels', {
      name: 'restores',
      kind: 'webhook',
      settings: { url: `${rx.url}/restores` },
      events: ['restore.finished', 'restore.failed'],
    })
    const backup = await runTask(d, `/v1/job/${ids.broken}/run`)
    expect(backup.status, backup.log).toBe('done')
    const restore = await runTask(d, `/v1/archive/${backup.archive_uuid}/restore`, {})
    expect(restore.status, restore.log).toBe('done')
    const [hit] = await rx.waitFor('/restores')
    const notice = JSON.parse(hit!.body)
    expect(notice).toMatchObject({
      event: 'restore.finished',
      severity: 'success',
      title: 'Restore into nightly-db finished',
      job: { name: 'nightly-db' },
    })
    expect(notice.task.url).toBe(`${d.url}/#/tasks/${restore.uuid}`)
    expect(rx.at('/restores')).toHaveLength(1) // the backup before it is not a restore event
    await d.api('DELETE', `/v1/channel/${uuid}`)
  })

  it('retries a receiver that answers 503 twice, and records 3 attempts', async () => {
    rx.answer('/flaky', [503, 503])
    const uuid = await post('/v1/channels', {
      name: 'flaky',
      kind: 'webhook',
      settings: { url: `${rx.url}/flaky` },
      jobs: [ids.flaky],
    })
    expect((await runTask(d, `/v1/job/${ids.flaky}/run`)).status).toBe('failed')
    await rx.waitFor('/flaky', 3)
    await waitForLog(d, (l) => l.includes('"flaky"') && l.includes('delivered after 3 attempt(s)'))
    const read = (await d.api('GET', `/v1/channel/${uuid}`)).body
    expect(read.last_delivery).toMatchObject({ ok: true, attempts: 3, event: 'backup.failed' })
    expect(read.last_delivery.detail).toContain('200')
    expect(rx.at('/flaky').map((r) => JSON.parse(r.body).event)).toEqual([
      'backup.failed',
      'backup.failed',
      'backup.failed',
    ])
  })
})

describe('CLI', () => {
  const cli = (args: string[], input?: string) => runCli(args, { dataDir: d.dataDir, input })

  it('creates with a secret from stdin, lists, shows redacted, tests (exit 0, or 1 when refused)', async () => {
    const created = await cli(
      [
        'create',
        'channel',
        '--name',
        'cli-slack',
        '--kind',
        'slack',
        '--set-secret',
        'webhook_url',
        '--events',
        'backup.failed,backup.recovered',
        '--jobs',
        'nightly-db',
        '--reminder-hours',
        '6',
      ],
      `${rx.url}/${CLI_SECRET_PATH}\n`,
    )
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toContain('created channel "cli-slack"')
    const kinds = await cli(['channel', 'kinds', 'slack'])
    expect(kinds.code, kinds.stderr).toBe(0)
    expect(kinds.stdout).toMatch(/webhook_url +string, secret/)
    const list = await cli(['list', 'channels'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/cli-slack +slack +yes +1 +never/)
    const show = await cli(['show', 'channel', 'cli-slack'])
    expect(show.stdout).toContain('<redacted>')
    expect(show.stdout).toContain('nightly-db')
    expect(show.stdout).toContain('after 6 h')
    const test = await cli(['test', 'channel', 'cli-slack'])
    expect(test.code, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toMatch(/^OK: /)
    await rx.waitFor(`/${CLI_SECRET_PATH}`)
    // An edit sends the secret back as <redacted>: it is kept.
    const edited = await cli(['update', 'channel', 'cli-slack', '--reminder-hours', '0'])
    expect(edited.code, edited.stderr).toBe(0)
    expect((await cli(['show', 'channel', 'cli-slack'])).stdout).toMatch(/Reminder: +never/)
    expect((await cli(['test', 'channel', 'cli-slack'])).code).toBe(0)
    await rx.waitFor(`/${CLI_SECRET_PATH}`, 2)

    const hook = await cli([
      'create',
      'channel',
      '--name',
      'cli-refused',
      '--kind',
      'webhook',
      '--set',
      `url=${rx.url}/refuse-cli`,
    ])
    expect(hook.code, hook.stderr).toBe(0)
    const refused = await cli(['test', 'channel', 'cli-refused'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/^FAILED: .*400/)
    const disabled = await cli(['update', 'channel', 'cli-refused', '--disable'])
    expect(disabled.code, disabled.stderr).toBe(0)
    expect((await cli(['list', 'channels'])).stdout).toMatch(/cli-refused +webhook +no/)
    const bad = await cli([
      'create',
      'channel',
      '--name',
      'x',
      '--kind',
      'webhook',
      '--set',
      `url=${rx.url}`,
      '--events',
      'backup.exploded',
    ])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('backup.exploded')
    expect((await cli(['delete', 'channel', 'cli-refused'])).code).toBe(0)
  })
})

describe('secrets', () => {
  it('never appear in the daemon log or in API reads', async () => {
    const all = JSON.stringify((await d.api('GET', '/v1/channels')).body)
    const log = d.stderr.join('\n')
    for (const secret of SECRETS) {
      expect(all).not.toContain(secret)
      expect(log).not.toContain(secret)
    }
    // The log did say what was delivered.
    expect(log).toMatch(
      /notify: channel "alerts" \(webhook\) backup.failed delivered after 1 attempt/,
    )
  })
})

describe('health signals', () => {
  let h: RunningDaemon | undefined
  afterAll(async () => {
    await h?.stop()
  })

  it('a raised signal (a store low on space) is sent to a failures-only channel', async () => {
    // Every filesystem has less free space than this: each fs store raises low-space.
    h = await startDaemon({
      env: { BULWARK_NOTIFY_RETRY_MS: '50,100,200', BULWARK_LOW_SPACE_BYTES: '999999999999999999' },
    })
    const res = await h.api('POST', '/v1/channels', {
      name: 'health',
      kind: 'webhook',
      settings: { url: `${rx.url}/health` },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const store = await h.api('POST', '/v1/stores', {
      name: 'tiny-disk',
      plugin: 'fs',
      endpoint: { path: join(dataDir, 'tiny'), vault_password: 'correct horse battery' },
    })
    expect(store.status, JSON.stringify(store.body)).toBe(200)
    const [hit] = await rx.waitFor('/health')
    const notice = JSON.parse(hit!.body)
    expect(notice).toMatchObject({ event: 'health.low-space', severity: 'warning' })
    expect(notice.title).toContain('tiny-disk')
    expect(notice.url).toBe(`${h.url}/#/`)
    const health = (await h.api('GET', '/v1/health')).body
    expect(health.signals.map((s: { signal: string }) => s.signal)).toContain('low-space')
    await waitForLog(h!, '"health" (webhook) health.low-space delivered', { timeoutMs: 20_000 })
    const read = (await h.api('GET', `/v1/channel/${res.body.uuid}`)).body
    expect(read.last_delivery).toMatchObject({ ok: true, event: 'health.low-space' })
  })
})
