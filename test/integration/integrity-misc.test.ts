// Issue 10, the smaller promises, against the built daemon over real HTTP:
// a target's `agent` must name an existing agent; the data directory lock
// is taken atomically (pairs of daemons started at one instant: exactly one
// runs) and the data directory and its files are private even when they were
// made loose before; SIGTERM always removes daemon.json and daemon.lock;
// HEAD /v1/events ends at once; an event-stream client that stops reading is
// dropped instead of buffered for without limit.
import { spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  rmSync,
} from 'node:fs'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { transformWithOxc } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
const cleanup: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  d = await startDaemon()
})
afterAll(async () => {
  await d?.stop()
  for (const fn of cleanup.reverse()) await fn()
})

const mode = (path: string) => statSync(path).mode & 0o777
const exited = (d: RunningDaemon) =>
  new Promise<number | null>((resolve) => {
    if (d.child.exitCode !== null || d.child.signalCode !== null) resolve(d.child.exitCode)
    else d.child.once('exit', (code) => resolve(code))
  })

/** Polls `check` every 50 ms until it is truthy (or fails after `ms`). */
async function until<T>(check: () => T | Promise<T>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('target agent', () => {
  it('refuses an agent that does not exist on create and update', async () => {
    const body = { name: 'remote', plugin: 'files', endpoint: { path: '/srv/www' } }
    const refused = await d.api('POST', '/v1/targets', { ...body, agent: '10.0.0.5:5444' })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 'validation', field: 'agent' })
    expect(refused.body.error.message).toMatch(/no agent named "10\.0\.0\.5:5444"/)
    expect((await d.api('GET', '/v1/targets')).body).toEqual([])

    const ok = await d.api('POST', '/v1/targets', { ...body, agent: '' })
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    const uuid = ok.body.uuid
    const put = await d.api('PUT', `/v1/target/${uuid}`, {
      ...body,
      summary: 'moved',
      agent: 'db-host:5444',
    })
    expect(put.status).toBe(400)
    expect(put.body.error).toMatchObject({ code: 'validation', field: 'agent' })
    expect((await d.api('GET', `/v1/target/${uuid}`)).body).toMatchObject({
      summary: '',
      agent: '',
    })
    // Without an agent (or an empty one) an update goes through.
    expect((await d.api('PUT', `/v1/target/${uuid}`, { ...body, summary: 'x' })).status).toBe(200)
    expect((await d.api('DELETE', `/v1/target/${uuid}`)).status).toBe(200)
  })
})

describe('data directory lock', () => {
  it('lets exactly one of two daemons started at the same instant run (5 pairs)', async () => {
    const pairs = Array.from({ length: 5 }, () => tempDir('bulwark-pair-'))
    cleanup.push(() => pairs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))
    const outcomes = await Promise.all(
      pairs.map((dir) =>
        Promise.allSettled([startDaemon({ dataDir: dir }), startDaemon({ dataDir: dir })]),
      ),
    )
    for (const [i, pair] of outcomes.entries()) {
      const running = pair.filter((o) => o.status === 'fulfilled').map((o) => o.value)
      const failed = pair.filter((o) => o.status === 'rejected').map((o) => String(o.reason))
      expect(running, `pair ${i}: ${failed.join('\n')}`).toHaveLength(1)
      expect(failed[0]).toContain(
        `another Bulwark daemon (pid ${running[0]!.pid}) is already running with data directory ${pairs[i]}`,
      )
      expect((await running[0]!.api('GET', '/v1/ping')).status).toBe(200)
    }
    await Promise.all(
      outcomes.flatMap((pair) => pair.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))),
    ).then((running) => Promise.all(running.map((r) => r.stop())))
    for (const dir of pairs) {
      expect(existsSync(join(dir, 'daemon.lock'))).toBe(false)
      // Nothing of the lock's own making is left behind.
      expect(readdirSync(dir).filter((f) => f.includes('daemon.lock'))).toEqual([])
    }
  }, 120_000)

  it('never lets two processes hold it, however close their starts (lockDataDir, 25 rounds of 3)', async () => {
    // The real lock code (platform/lock.ts imports only node:*) run by a tiny
    // program that waits for a common instant, tries the lock, says whether it
    // won, and holds it until its stdin closes.
    const dir = tempDir('bulwark-lockrace-')
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const source = join(ROOT, 'src-daemon', 'platform', 'lock.ts')
    const lock = await transformWithOxc(readFileSync(source, 'utf8'), source, { lang: 'ts' })
    writeFileSync(join(dir, 'lock.mjs'), lock.code)
    const program = join(dir, 'lock-race.mjs')
    writeFileSync(
      program,
      `import { lockDataDir } from './lock.mjs'
const [dataDir, at] = process.argv.slice(2)
while (Date.now() < Number(at)) {}
let said
try {
  lockDataDir(dataDir)
  said = 'won'
} catch (err) {
  said = err.name === 'DataDirLockedError' ? 'locked' : 'error: ' + err.message
}
process.stdout.write(said + '\\n')
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
`,
    )
    for (let round = 0; round < 25; round++) {
      const dataDir = join(dir, `round-${round}`)
      mkdirSync(dataDir)
      // Half the rounds start over a stale lock (a pid that is gone) that all must break together.
      if (round % 2 === 1) writeFileSync(join(dataDir, 'daemon.lock'), '999999')
      const at = String(Date.now() + 400)
      const children = Array.from({ length: 3 }, () =>
        spawn(process.execPath, [program, dataDir, at], { stdio: ['pipe', 'pipe', 'inherit'] }),
      )
      const said = await Promise.all(
        children.map(
          (c) =>
            new Promise<string>((resolve) => {
              let out = ''
              c.stdout!.on('data', (b) => {
                out += b
                if (out.includes('\n')) resolve(out.trim())
              })
              c.once('exit', () => resolve(out.trim() || 'exited'))
            }),
        ),
      )
      expect(
        said.filter((s) => s === 'won'),
        `round ${round}: ${said.join(', ')}`,
      ).toHaveLength(1)
      expect(
        said.filter((s) => s === 'locked'),
        `round ${round}: ${said.join(', ')}`,
      ).toHaveLength(2)
      await Promise.all(
        children.map((c) => {
          const gone = new Promise((r) => c.once('exit', r))
          c.stdin!.end()
          return gone
        }),
      )
    }
  }, 120_000)

  it('makes a data directory made loose before 0700 and its files 0600', async () => {
    // A directory made by hand (0755) holding a catalog with 0644.
    const dir = tempDir('bulwark-modes-')
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    chmodSync(dir, 0o755)
    writeFileSync(join(dir, 'catalog.db'), '')
    chmodSync(join(dir, 'catalog.db'), 0o644)
    const first = await startDaemon({ dataDir: dir })
    expect(mode(dir)).toBe(0o700)
    const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile())
    for (const f of ['catalog.db', 'catalog.db-wal', 'catalog.db-shm', 'token', 'daemon.json']) {
      expect(files).toContain(f)
    }
    for (const f of files) expect(mode(join(dir, f)), f).toBe(0o600)
    await first.stop()

    // Everything loosened again while the daemon is stopped: the next start tightens it all.
    chmodSync(dir, 0o755)
    const loosened = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile())
    expect(loosened).toEqual(expect.arrayContaining(['catalog.db', 'token', 'secrets.key']))
    for (const f of loosened) chmodSync(join(dir, f), 0o644)
    const again = await startDaemon({ dataDir: dir })
    expect(mode(dir)).toBe(0o700)
    for (const f of readdirSync(dir)) {
      if (statSync(join(dir, f)).isFile()) expect(mode(join(dir, f)), f).toBe(0o600)
    }
    expect((await again.api('GET', '/v1/ping')).status).toBe(200)
    await again.stop()
  })
})

describe('SIGTERM', () => {
  it('removes daemon.json and daemon.lock, with a client on the event stream and a backup running', async () => {
    const dir = tempDir('bulwark-sigterm-')
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const own = await startDaemon({ dataDir: dir })
    expect(existsSync(join(dir, 'daemon.json'))).toBe(true)
    expect(existsSync(join(dir, 'daemon.lock'))).toBe(true)
    const created = async (path: string, body: unknown) => {
      const res = await own.api('POST', path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.uuid as string
    }
    const job = await created('/v1/jobs', {
      name: 'slow',
      target: await created('/v1/targets', {
        name: 'slow',
        plugin: 'exec',
        endpoint: { backup_command: 'echo started >&2; sleep 600', restore_command: 'cat' },
      }),
      store: await created('/v1/stores', {
        name: 'disk',
        plugin: 'fs',
        endpoint: { path: join(dir, 'store') },
      }),
      schedule: await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' }),
      retention: await created('/v1/retention', { name: 'day', expires: 86400 }),
      paused: true,
    })
    const events = await fetch(`${own.url}/v1/events`, {
      headers: { authorization: `Bearer ${own.token}` },
    })
    expect(events.status).toBe(200)
    const task = (await own.api('POST', `/v1/job/${job}/run`, {})).body.task_uuid
    await until(
      async () => (await own.api('GET', `/v1/task/${task}`)).body.status === 'running',
      'the backup to run',
    )
    const code = exited(own)
    own.child.kill('SIGTERM')
    expect(await code).toBe(0)
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false)
    expect(existsSync(join(dir, 'daemon.lock'))).toBe(false)
    await events.body?.cancel().catch(() => {})
  })
})

describe('GET /v1/events', () => {
  it('answers HEAD with 200 and the stream’s headers, and ends at once', async () => {
    const started = Date.now()
    const res = await new Promise<{ status: number; type: string; ended: number }>(
      (resolve, reject) => {
        const req = request(`${d.url}/v1/events`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${d.token}` },
        })
        req.setTimeout(1000, () => req.destroy(new Error('HEAD /v1/events did not end within 1 s')))
        req.on('error', reject)
        req.on('response', (r) => {
          r.resume()
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 0,
              type: String(r.headers['content-type']),
              ended: Date.now(),
            }),
          )
        })
        req.end()
      },
    )
    expect(res.status).toBe(200)
    expect(res.type).toBe('text/event-stream')
    expect(res.ended - started).toBeLessThan(1000)
  })

  it('drops a client that does not read once too much is unsent, and keeps serving the others', async () => {
    // An external target plugin whose backup writes 2 MB of task log (stderr
    // lines become task-log events) and a little data.
    const dataDir = tempDir('bulwark-slow-client-')
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }))
    mkdirSync(join(dataDir, 'plugins'), { mode: 0o700 })
    const plugin = join(dataDir, 'plugins', 'chatty')
    writeFileSync(
      plugin,
      `#!/bin/sh
case $1 in
  info) echo '{"name":"Chatty","author":"t","version":"0.1.0","features":{"target":"yes","store":"no"}}' ;;
  backup)
    line=$(head -c 1000 /dev/zero | tr '\\000' x)
    i=0
    while [ $i -lt 2000 ]; do echo "$i $line"; i=$((i+1)); done >&2
    printf 'some data'
    ;;
  *) exit 1 ;;
esac
`,
      { mode: 0o755 },
    )
    const own = await startDaemon({ dataDir })
    cleanup.push(() => own.stop())
    const created = async (path: string, body: unknown) => {
      const res = await own.api('POST', path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.uuid as string
    }
    const job = await created('/v1/jobs', {
      name: 'chatty',
      target: await created('/v1/targets', { name: 'chatty', plugin: 'chatty', endpoint: {} }),
      store: await created('/v1/stores', {
        name: 'disk',
        plugin: 'fs',
        endpoint: { path: join(dataDir, 'store') },
      }),
      schedule: await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' }),
      retention: await created('/v1/retention', { name: 'day', expires: 86400 }),
      paused: true,
    })

    // The slow client: asks for the stream, reads the headers, then stops reading.
    const port = Number(new URL(own.url).port)
    const slow: Socket = connect(port, '127.0.0.1')
    let slowBytes = 0
    let slowClosed = false
    slow.on('close', () => (slowClosed = true))
    slow.on('error', () => {}) // a reset is a close too
    await new Promise<void>((resolve) => {
      slow.write(
        `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${own.token}\r\n\r\n`,
      )
      slow.once('data', (b: Buffer) => {
        slowBytes += b.length
        expect(b.toString()).toMatch(/^HTTP\/1\.1 200/)
        slow.pause()
        resolve()
      })
    })
    slow.on('data', (b: Buffer) => (slowBytes += b.length))

    // A client that reads everything.
    const fast = await fetch(`${own.url}/v1/events`, {
      headers: { authorization: `Bearer ${own.token}` },
    })
    const reader = fast.body!.getReader()
    let fastText = ''
    let fastEnded = false
    const decoder = new TextDecoder()
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }))
        if (done) break
        fastText += decoder.decode(value, { stream: true })
        if (fastText.length > 1_000_000) fastText = fastText.slice(-100_000)
      }
      fastEnded = true
    })()

    // Backups, each ~2 MB of events, until the daemon says it dropped the slow client.
    const dropped = () =>
      own.stderr.some((l) => l.includes('dropping a client that is not reading'))
    let produced = 0
    for (let run = 0; run < 15 && !dropped(); run++) {
      const res = await own.api('POST', `/v1/job/${job}/run`, {})
      const task = res.body.task_uuid
      await until(async () => {
        const t = (await own.api('GET', `/v1/task/${task}`)).body
        return !['pending', 'running'].includes(t.status) && t
      }, 'the chatty backup to end')
      produced += 2000 * 1050
    }
    expect(dropped(), `${produced} bytes of events did not drop the client`).toBe(true)

    // Reading again, the slow client gets what was already on its way, then the end.
    slow.resume()
    await until(() => slowClosed, 'the daemon to close the slow client', 10_000)
    expect(slowBytes).toBeLessThan(produced)
    // The reader was never dropped, and still gets events.
    expect(fastEnded).toBe(false)
    const marker = await created('/v1/retention', { name: 'after', expires: 86400 })
    await until(() => fastText.includes(marker), 'the reading client to see a later event', 10_000)
    await reader.cancel()
    expect((await own.api('GET', '/v1/ping')).status).toBe(200)
  })
})
