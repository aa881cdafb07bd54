// The daemon itself over real HTTP: its files, lock, auth, host check,
// archives, tasks, plugins, status, the event stream and malformed requests.
import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
beforeAll(async () => {
  // Tasks stay pending here (no workers), so the queue itself can be inspected.
  d = await startDaemon({ env: { BULWARK_WORKERS: '0' } })
})
afterAll(async () => {
  await d.stop()
})

/** A raw request, so the Host header can be forged. */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('daemon files and lifecycle', () => {
  it('writes daemon.json and token with mode 0600 and removes daemon.json on clean shutdown', async () => {
    const own = await startDaemon({ dataDir: tempDir() })
    const daemonJson = join(own.dataDir, 'daemon.json')
    const info = JSON.parse(readFileSync(daemonJson, 'utf8'))
    expect(info).toMatchObject({ url: own.url, pid: own.pid, version: expect.any(String) })
    expect(statSync(daemonJson).mode & 0o777).toBe(0o600)
    expect(statSync(join(own.dataDir, 'token')).mode & 0o777).toBe(0o600)
    expect(statSync(own.dataDir).mode & 0o777).toBe(0o700)
    const token = readFileSync(join(own.dataDir, 'token'), 'utf8').trim()
    expect(token.length).toBeGreaterThanOrEqual(32)
    await own.stop()
    expect(own.child.exitCode).toBe(0)
    expect(existsSync(daemonJson)).toBe(false)
    // The token survives restarts.
    const again = await startDaemon({ dataDir: own.dataDir })
    expect(again.token).toBe(token)
    await again.stop()
  })

  it('refuses a second daemon on the same data directory with a clear message', async () => {
    const second = await runCli(['daemon', '--data-dir', d.dataDir, '--listen', '127.0.0.1:0'])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(
      `another Bulwark daemon (pid ${d.pid}) is already running with data directory ${d.dataDir}`,
    )
    expect((await d.api('GET', '/v1/ping')).status).toBe(200)
  })

  it('takes over a lock left by a dead process', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'daemon.lock'), '999999')
    const own = await startDaemon({ dataDir: dir })
    expect((await own.api('GET', '/v1/ping')).status).toBe(200)
    await own.stop()
  })

  it('says so when the port is taken', async () => {
    const port = new URL(d.url).port
    const res = await runCli(['daemon', '--data-dir', tempDir(), '--listen', `127.0.0.1:${port}`])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/already in use; choose another address with --listen/)
    const bad = await runCli(['daemon', '--data-dir', tempDir(), '--listen', 'nonsense:port'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/invalid listen address/)
  })

  it('fails tasks left running by a daemon that died, at the next start', async () => {
    const own = await startDaemon({ dataDir: tempDir() })
    own.child.kill('SIGKILL')
    await new Promise((r) => own.child.once('exit', r))
    const db = new Database(join(own.dataDir, 'catalog.db'))
    const uuid = randomUUID()
    db.prepare(
      `INSERT INTO tasks (uuid, owner, op, status, requested_at, started_at) VALUES (?, 'system', 'backup', 'running', ?, ?)`,
    ).run(uuid, Date.now(), Date.now())
    db.close()
    const again = await startDaemon({ dataDir: own.dataDir })
    const task = (await again.api('GET', `/v1/task/${uuid}`)).body
    expect(task.status).toBe('failed')
    expect(task.error).toMatch(/daemon stopped/)
    expect(task.log).toMatch(/marked failed at restart/)
    await again.stop()
  })
})

describe('auth and host check', () => {
  it('lets ping and the public key through without a token, nothing else', async () => {
    const ping = await fetch(`${d.url}/v1/ping`)
    expect(ping.status).toBe(200)
    expect(((await ping.json()) as any).ok).toBe('pong')
    const key = await fetch(`${d.url}/v1/meta/pubkey`)
    expect(key.status).toBe(200)
    expect(await key.text()).toMatch(
      /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ bulwark@\S+\n$/,
    )
    for (const path of ['/v1/status', '/v1/targets', '/v1/tasks', '/v1/plugins', '/v1/events']) {
      const res = await fetch(d.url + path)
      expect(res.status, path).toBe(401)
      expect(((await res.json()) as any).error.code).toBe('unauthorized')
    }
    const wrong = await fetch(`${d.url}/v1/status`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses requests addressed to another host (DNS rebinding)', async () => {
    const auth = { authorization: `Bearer ${d.token}` }
    const evil = await rawGet(d.url, '/v1/status', {
      ...auth,
      host: `evil.example:${new URL(d.url).port}`,
    })
    expect(evil.status).toBe(403)
    expect(JSON.parse(evil.body).error.code).toBe('forbidden_host')
    const local = await rawGet(d.url, '/v1/status', {
      ...auth,
      host: `localhost:${new URL(d.url).port}`,
    })
    expect(local.status).toBe(200)
  })
})

describe('malformed requests', () => {
  it('answers 400 with a code and field, never a stack trace', async () => {
    const bad = await d.api('POST', '/v1/retention', '{"name": "x", expires: }')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'invalid_json', field: 'body' })
    const empty = await d.api('POST', '/v1/retention', '')
    expect(empty.status).toBe(400)
    expect(empty.body.error.field).toBe('body')
    const arr = await d.api('POST', '/v1/retention', [1, 2])
    expect(arr.status).toBe(400)
    const badUuid = await d.api('GET', '/v1/target/not-a-uuid')
    expect(badUuid.status).toBe(400)
    expect(badUuid.body.error).toMatchObject({ code: 'validation', field: 'uuid' })
    const missing = await d.api('GET', '/v1/nothing-here')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
    for (const res of [bad, empty, arr, badUuid, missing]) {
      expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |node_modules/)
    }
  })
})

describe('plugins and status', () => {
  it('lists installed plugins with their field schemas', async () => {
    const all = (await d.api('GET', '/v1/plugins')).body
    const names = all.map((p: any) => `${p.kind}:${p.name}`)
    expect(names).toEqual(expect.arrayContaining(['store:fs', 'target:postgres', 'target:files']))
    const stores = (await d.api('GET', '/v1/plugins?kind=store')).body
    expect(stores.every((p: any) => p.kind === 'store')).toBe(true)
    const pg = (await d.api('GET', '/v1/plugin/postgres')).body
    expect(pg.fields.find((f: any) => f.name === 'password')).toMatchObject({
      secret: true,
      type: 'string',
    })
    expect(pg.fields.find((f: any) => f.name === 'database')).toMatchObject({ required: true })
    expect((await d.api('GET', '/v1/plugin/oracle')).status).toBe(404)
    expect((await d.api('GET', '/v1/plugins?kind=robot')).status).toBe(400)
  })

  it('reports version, counts and uptime', async () => {
    const before = (await d.api('GET', '/v1/status')).body
    expect(before).toMatchObject({
      version: expect.any(String),
      data_dir: d.dataDir,
      uptime_seconds: expect.any(Number),
    })
    await d.api('POST', '/v1/retention', { name: 'count me', expires: 7200 })
    const after = (await d.api('GET', '/v1/status')).body
    expect(after.counts.retention).toBe(before.counts.retention + 1)
    expect(Object.keys(after.tasks).sort()).toEqual([
      'canceled',
      'done',
      'failed',
      'pending',
      'running',
    ])
  })
})

describe('archives and tasks', () => {
  let target: string, otherTarget: string, fileTarget: string, store: string
  const archives: string[] = []

  beforeAll(async () => {
    const post = async (path: string, body: unknown) =>
      (await d.api('POST', path, body)).body.uuid as string
    target = await post('/v1/targets', {
      name: 'pg',
      plugin: 'postgres',
      endpoint: { database: 'a' },
    })
    otherTarget = await post('/v1/targets', {
      name: 'pg2',
      plugin: 'postgres',
      endpoint: { database: 'b' },
    })
    fileTarget = await post('/v1/targets', {
      name: 'dir',
      plugin: 'files',
      endpoint: { path: '/srv' },
    })
    store = await post('/v1/stores', { name: 'disk', plugin: 'fs', endpoint: { path: '/tmp/bk' } })
    // Archives are written by backup tasks; here they are put straight into the catalog.
    const db = new Database(join(d.dataDir, 'catalog.db'))
    const insert = db.prepare(
      `INSERT INTO archives (uuid, target_uuid, store_uuid, store_key, taken_at, expires_at, status, target_plugin, size)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'postgres', 1234)`,
    )
    const days = ['2026-01-10T12:00:00', '2026-02-10T12:00:00', '2026-03-10T12:00:00']
    days.forEach((day, i) => {
      const uuid = randomUUID()
      archives.push(uuid)
      const taken = new Date(day).getTime()
      insert.run(
        uuid,
        target,
        store,
        `key-${i}`,
        taken,
        taken + 86400_000,
        i === 0 ? 'purged' : 'valid',
      )
    })
    db.close()
  })

  it('lists with filters', async () => {
    const list = async (q: string) =>
      (await d.api('GET', `/v1/archives${q}`)).body.map((a: any) => a.uuid)
    expect(await list('')).toEqual([archives[2], archives[1], archives[0]])
    expect(await list('?after=20260201')).toEqual([archives[2], archives[1]])
    expect(await list('?before=20260201')).toEqual([archives[0]])
    expect(await list('?after=20260201&before=20260301')).toEqual([archives[1]])
    expect(await list(`?target=${target}&status=valid`)).toEqual([archives[2], archives[1]])
    expect(await list(`?target=${otherTarget}`)).toEqual([])
    expect(await list(`?store=${store}&limit=1`)).toEqual([archives[2]])
    const one = (await d.api('GET', `/v1/archive/${archives[1]}`)).body
    expect(one).toMatchObject({
      store_key: 'key-1',
      status: 'valid',
      store_plugin: 'fs',
      target_plugin: 'postgres',
      target_name: 'pg',
      size: 1234,
    })
    expect(one.taken_at).toBe(new Date('2026-02-10T12:00:00').toISOString())
    for (const q of [
      '?after=2026-01-01',
      '?after=20261301',
      '?before=20260230',
      '?status=broken',
      '?target=xyz',
    ]) {
      const res = await d.api('GET', `/v1/archives${q}`)
      expect(res.status, q).toBe(400)
      expect(res.body.error.field, q).toBe(q.slice(1).split('=')[0])
    }
  })

  it('annotates, restores to its own or another target, and deletes', async () => {
    expect(
      (await d.api('PUT', `/v1/archive/${archives[1]}`, { notes: 'before change #422' })).body,
    ).toEqual({ ok: 'updated' })
    expect((await d.api('GET', `/v1/archive/${archives[1]}`)).body.notes).toBe('before change #422')
    expect((await d.api('PUT', `/v1/archive/${archives[1]}`, {})).status).toBe(400)

    const own = await d.api('POST', `/v1/archive/${archives[1]}/restore`, {})
    expect(own.body.ok).toBe('scheduled')
    expect((await d.api('GET', `/v1/task/${own.body.task_uuid}`)).body).toMatchObject({
      type: 'restore',
      archive_uuid: archives[1],
      target_uuid: target,
    })
    const other = await d.api('POST', `/v1/archive/${archives[1]}/restore`, {
      target: otherTarget,
      owner: 'bob',
    })
    expect((await d.api('GET', `/v1/task/${other.body.task_uuid}`)).body).toMatchObject({
      target_uuid: otherTarget,
      owner: 'bob',
    })
    const wrongPlugin = await d.api('POST', `/v1/archive/${archives[1]}/restore`, {
      target: fileTarget,
    })
    expect(wrongPlugin.status).toBe(400)
    expect(wrongPlugin.body.error).toMatchObject({ field: 'target' })
    expect(wrongPlugin.body.error.message).toMatch(/postgres/)
    expect(
      (await d.api('POST', `/v1/archive/${archives[1]}/restore`, { target: randomUUID() })).status,
    ).toBe(400)
    expect((await d.api('POST', `/v1/archive/${archives[0]}/restore`)).status).toBe(409)
    expect((await d.api('POST', `/v1/archive/${randomUUID()}/restore`)).status).toBe(404)

    const del = await d.api('DELETE', `/v1/archive/${archives[2]}`)
    expect(del.body.ok).toBe('deleted')
    expect((await d.api('GET', `/v1/archive/${archives[2]}`)).body.status).toBe('expired')
    expect((await d.api('GET', `/v1/task/${del.body.task_uuid}`)).body).toMatchObject({
      type: 'purge',
      archive_uuid: archives[2],
    })
    expect((await d.api('DELETE', `/v1/archive/${randomUUID()}`)).status).toBe(404)
  })

  it('lists, shows and cancels tasks', async () => {
    const run = await d.api('POST', `/v1/archive/${archives[1]}/restore`, { owner: 'carol' })
    const uuid = run.body.task_uuid
    const pending = (await d.api('GET', '/v1/tasks?status=pending')).body
    expect(pending.every((t: any) => t.status === 'pending')).toBe(true)
    const active = (await d.api('GET', '/v1/tasks?status=active')).body.map((t: any) => t.uuid)
    expect(active).toContain(uuid)
    const all = (await d.api('GET', '/v1/tasks')).body
    expect(all[0].uuid).toBe(uuid)
    expect(
      (await d.api('GET', `/v1/tasks?archive=${archives[1]}`)).body.length,
    ).toBeGreaterThanOrEqual(3)
    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(task.log).toMatch(/restore task requested by carol/)
    expect(task.requested_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const cancel = await d.api('DELETE', `/v1/task/${uuid}`)
    expect(cancel.body).toEqual({ ok: 'canceled' })
    const canceled = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(canceled.status).toBe('canceled')
    expect(canceled.stopped_at).not.toBeNull()
    const again = await d.api('DELETE', `/v1/task/${uuid}`)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('conflict')
    expect(
      (await d.api('GET', '/v1/tasks?status=canceled')).body.map((t: any) => t.uuid),
    ).toContain(uuid)
    const stillActive = (await d.api('GET', '/v1/tasks?status=active')).body
    expect(stillActive.map((t: any) => t.uuid)).not.toContain(uuid)
    expect((await d.api('GET', '/v1/tasks?status=bogus')).status).toBe(400)
    expect((await d.api('GET', `/v1/task/${randomUUID()}`)).status).toBe(404)
  })
})

describe('event stream', () => {
  it('streams resource and task events', async () => {
    const ac = new AbortController()
    const res = await fetch(`${d.url}/v1/events`, {
      headers: { authorization: `Bearer ${d.token}` },
      signal: ac.signal,
    })
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const reader = res.body!.getReader()
    const created = await d.api('POST', '/v1/retention', { name: 'evented', expires: 3600 })
    let text = ''
    while (!text.includes(created.body.uuid)) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    ac.abort()
    // Each block: its `id:` (bus events) and its `data:` line.
    const events = text
      .split('\n\n')
      .flatMap((c) => c.split('\n').filter((l) => l.startsWith('data: ')))
      .map((l) => JSON.parse(l.slice(6)))
    expect(events[0].type).toBe('heartbeat')
    expect(events).toContainEqual({
      type: 'resource',
      kind: 'retention',
      uuid: created.body.uuid,
      action: 'created',
    })
  })
})
