// The desktop app's daemon supervisor (src-main/supervisor.ts) in plain Node
// against the real, built daemon: the ready handshake, attaching to a running
// daemon, health, restarts with backoff after SIGKILL, 'failing' when it keeps
// dying, stop() leaving nothing behind, background mode, and the log ring.
import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isAlive } from '../../src-main/daemon-files'
import { LogRing } from '../../src-main/log-ring'
import {
  Supervisor,
  type StateChange,
  type SupervisorOptions,
  type SupervisorState,
} from '../../src-main/supervisor'
import { BULWARK_BIN, ROOT, tempDir } from '../helpers/daemon'

const COMMAND = [process.execPath, BULWARK_BIN, 'daemon']
const ENV = { ...process.env, BULWARK_KEYCHAIN: 'off', BULWARK_LOG_LEVEL: 'info' }

const supervisors: Supervisor[] = []
const strayPids: number[] = []
const dataDirs: string[] = []
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop()
  // Whatever still runs on a test's data directory (a background daemon, a test that failed midway).
  for (const dir of dataDirs.splice(0)) {
    try {
      strayPids.push(daemonFile(dir).pid)
    } catch {
      // none left
    }
  }
  for (const pid of strayPids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
})

function supervisor(opts: Partial<SupervisorOptions> & { dataDir: string }): Supervisor {
  dataDirs.push(opts.dataDir)
  const s = new Supervisor({
    command: COMMAND,
    env: ENV,
    healthMs: 200,
    stopGraceMs: 5000,
    ...opts,
  })
  supervisors.push(s)
  return s
}

/** The next state change matching `state` (and `when`), within `ms`. */
function next(
  s: Supervisor,
  state: SupervisorState,
  when: (c: StateChange) => boolean = () => true,
  ms = 20_000,
): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('state', on)
      reject(new Error(`no '${state}' state within ${ms} ms (now ${s.state.state})`))
    }, ms)
    const on = (c: StateChange) => {
      if (c.state !== state || !when(c)) return
      clearTimeout(timer)
      s.off('state', on)
      resolve(c)
    }
    s.on('state', on)
  })
}

/** Resolves once `pid` no longer exists (polling), or rejects after `ms`. */
async function gone(pid: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (isAlive(pid)) {
    if (Date.now() > until) throw new Error(`process ${pid} is still running`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const daemonFile = (dataDir: string) =>
  JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string; pid: number }

describe('supervisor', () => {
  it('starts the daemon, learns its address from the ready line, polls its health, and stop() leaves nothing behind', async () => {
    const dataDir = tempDir()
    const s = supervisor({ dataDir })
    const health = new Promise((resolve) => s.once('health', resolve))
    const conn = await s.start()
    expect(conn).toMatchObject({ attached: false, background: false })
    expect(conn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(daemonFile(dataDir)).toMatchObject({ url: conn.url, pid: conn.pid })
    expect(await health).toMatchObject({ ok: true })
    const ping = await s.client()!.status()
    expect(ping.data_dir).toBe(dataDir)
    const logs = s.logs.snapshot().map((l) => l.text)
    expect(logs.some((l) => l.includes(`listening on ${conn.url}`))).toBe(true)
    // Neither the token nor the ready line's one-time sign-in code is in the log.
    expect(logs.some((l) => l.includes(conn.token) || l.includes('signin'))).toBe(false)

    await s.stop()
    expect(s.state.state).toBe('stopped')
    expect(isAlive(conn.pid)).toBe(false)
    expect(existsSync(join(dataDir, 'daemon.json'))).toBe(false)
  })

  it('attaches to the daemon already running on the data directory instead of starting another', async () => {
    const dataDir = tempDir()
    const first = supervisor({ dataDir })
    const a = await first.start()
    const second = supervisor({ dataDir })
    const b = await second.start()
    expect(b).toMatchObject({ attached: true, pid: a.pid, url: a.url, token: a.token })
    expect(second.logs.snapshot().some((l) => /attached to the daemon/.test(l.text))).toBe(true)
    // The second did not start it (and it is not a background daemon of the app): stop leaves it.
    await second.stop()
    expect(isAlive(a.pid)).toBe(true)
    expect((await first.client()!.ping()).ok).toBe('pong')
  })

  it('restarts a killed daemon with a doubling backoff, ready again on a new address', async () => {
    const dataDir = tempDir()
    const s = supervisor({ dataDir, backoff: { initialMs: 300, maxMs: 5000 } })
    const one = await s.start()

    let restarting = next(s, 'restarting')
    let ready = next(s, 'ready')
    process.kill(one.pid, 'SIGKILL')
    const r1 = await restarting
    expect(r1).toMatchObject({ restarts: 1, delayMs: 300 })
    expect(r1.reason).toMatch(/killed \(SIGKILL\)/)
    const two = await ready
    expect(two.at - r1.at).toBeGreaterThanOrEqual(300)
    expect(two.connection!.pid).not.toBe(one.pid)
    expect(isAlive(one.pid)).toBe(false)
    expect((await s.client()!.ping()).ok).toBe('pong')
    expect(daemonFile(dataDir).url).toBe(two.connection!.url)

    restarting = next(s, 'restarting')
    ready = next(s, 'ready')
    process.kill(two.connection!.pid, 'SIGKILL')
    const r2 = await restarting
    expect(r2).toMatchObject({ restarts: 2, delayMs: 600 })
    const three = await ready
    expect(three.at - r2.at).toBeGreaterThanOrEqual(600)
    expect(three.connection!.url).not.toBe(one.url)
  })

  it('kills and restarts a daemon that stops answering its health checks', async () => {
    const dataDir = tempDir()
    const s = supervisor({
      dataDir,
      healthMs: 100,
      healthTimeoutMs: 300,
      hungAfter: 2,
      backoff: { initialMs: 50 },
    })
    const one = await s.start()
    const checks: boolean[] = []
    s.on('health', (h) => checks.push(h.ok))
    const restarting = next(s, 'restarting')
    const ready = next(s, 'ready')
    process.kill(one.pid, 'SIGSTOP') // alive, but answers nothing
    const r = await restarting
    expect(r.reason).toMatch(/killed \(SIGKILL\)/)
    expect(checks.slice(-2)).toEqual([false, false])
    expect(s.logs.snapshot().some((l) => /has not answered 2 checks in a row/.test(l.text))).toBe(
      true,
    )
    expect((await ready).connection!.pid).not.toBe(one.pid)
  })

  it("says 'failing' when the daemon keeps dying, with the daemon's own reason", async () => {
    const dataDir = tempDir()
    // Another live process holds the data directory's lock: every start exits at once.
    writeFileSync(join(dataDir, 'daemon.lock'), String(process.pid))
    const s = supervisor({
      dataDir,
      backoff: { initialMs: 50, maxMs: 200, failLimit: 3, failWindowMs: 60_000 },
    })
    const seen: StateChange[] = []
    s.on('state', (c) => seen.push(c))
    const failing = next(s, 'failing')
    void s.start().catch(() => undefined)
    const f = await failing
    expect(seen.map((c) => c.state)).toEqual(['starting', 'restarting', 'restarting', 'failing'])
    expect(f.restarts).toBe(3)
    expect(f.reason).toMatch(
      /exited with code 1: .*another Bulwark daemon \(pid \d+\) is already running/,
    )
    expect(f.reason).toMatch(/died 3 times/)
    // It keeps trying: once the lock is gone it comes up, and is ready again.
    const ready = next(s, 'ready')
    writeFileSync(join(dataDir, 'daemon.lock'), '')
    expect((await ready).connection!.attached).toBe(false)
  })

  it('in background mode, quitting leaves the daemon running and the next start attaches to it', async () => {
    const dataDir = tempDir()
    const app1 = supervisor({ dataDir, background: true })
    const conn = await app1.start()
    strayPids.push(conn.pid)
    expect(conn).toMatchObject({ background: true, attached: false })
    // Its output reaches the log ring through its log file.
    await new Promise<void>((resolve) => {
      const check = () => app1.logs.snapshot().some((l) => l.text.includes('listening on'))
      if (check()) return resolve()
      app1.on('log', () => check() && resolve())
    })
    // Its stdin is not the app's: nothing ties its life to ours.
    if (process.platform === 'linux') {
      expect(readFileSync(`/proc/${conn.pid}/cmdline`, 'utf8')).not.toContain('--shutdown-on-stdin')
    }
    const left = await app1.detach()
    expect(left?.pid).toBe(conn.pid)
    expect(app1.state).toMatchObject({ state: 'stopped' })
    expect(isAlive(conn.pid)).toBe(true)

    const app2 = supervisor({ dataDir })
    const again = await app2.start()
    expect(again).toMatchObject({ attached: true, background: true, pid: conn.pid })
    // The app started that one, so quitting without background mode stops it.
    await app2.stop()
    await gone(conn.pid)
    expect(existsSync(join(dataDir, 'daemon.json'))).toBe(false)
  })

  it('moves a foreground daemon to the background when asked to on quit', async () => {
    const dataDir = tempDir()
    const app1 = supervisor({ dataDir })
    const fg = await app1.start()
    const bg = await app1.detach()
    expect(bg).toMatchObject({ background: true })
    strayPids.push(bg!.pid)
    expect(bg!.pid).not.toBe(fg.pid)
    expect(isAlive(fg.pid)).toBe(false)
    expect(isAlive(bg!.pid)).toBe(true)
    const app2 = supervisor({ dataDir })
    expect(await app2.start()).toMatchObject({ attached: true, pid: bg!.pid })
  })

  it("ends the daemon when the app's process dies without stopping it", async () => {
    const dataDir = tempDir()
    dataDirs.push(dataDir)
    // A separate Node process (the "app") runs a supervisor, then is killed outright.
    const script = join(tempDir(), 'app.ts')
    writeFileSync(
      script,
      `import { Supervisor } from ${JSON.stringify(join(ROOT, 'src-main/supervisor.ts'))}\n` +
        `const s = new Supervisor({ dataDir: ${JSON.stringify(dataDir)}, command: ${JSON.stringify(COMMAND)} })\n` +
        `s.start().then((c) => console.log(JSON.stringify({ pid: c.pid })))\n`,
    )
    const app = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/jiti/lib/jiti-cli.mjs'), script],
      {
        env: ENV,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const pid = await new Promise<number>((resolve, reject) => {
      app.stdout.on('data', (d: Buffer) => resolve((JSON.parse(String(d)) as { pid: number }).pid))
      app.once('exit', (code) =>
        reject(new Error(`the app exited (${code}) before its daemon was ready`)),
      )
    })
    strayPids.push(pid)
    expect(isAlive(pid)).toBe(true)
    app.kill('SIGKILL')
    await gone(pid)
    expect(existsSync(join(dataDir, 'daemon.json'))).toBe(false)
  })

  it('ignores junk its daemon prints before the ready line', async () => {
    const dataDir = tempDir()
    const wrapper = join(tempDir(), 'noisy.mjs')
    writeFileSync(
      wrapper,
      `process.stdout.write('Debugger listening, or a banner\\n{"ready": false}\\n{not json\\n')\n` +
        `await import(${JSON.stringify(new URL(`file://${BULWARK_BIN}`).href)})\n`,
    )
    const s = supervisor({ dataDir, command: [process.execPath, wrapper, 'daemon'] })
    const conn = await s.start()
    expect((await s.client()!.ping()).ok).toBe('pong')
    expect(conn.attached).toBe(false)
    const stdout = s.logs
      .snapshot()
      .filter((l) => l.source === 'stdout')
      .map((l) => l.text)
    expect(stdout).toEqual(['Debugger listening, or a banner', '{"ready": false}', '{not json'])
  })

  it('keeps only the last N log lines', async () => {
    const ring = new LogRing(3)
    for (const text of ['a', 'b', 'c', 'd', 'e']) ring.push({ at: 0, source: 'stderr', text })
    expect(ring.snapshot().map((l) => l.text)).toEqual(['c', 'd', 'e'])

    const s = supervisor({
      dataDir: tempDir(),
      logLines: 2,
      env: { ...ENV, BULWARK_LOG_LEVEL: 'debug' },
    })
    const all: string[] = []
    s.on('log', (l) => all.push(l.text))
    await s.start()
    // More lines than the ring holds (the start logs several), all read from the log file.
    await new Promise<void>((resolve) => {
      if (all.length > 3) return resolve()
      s.on('log', () => all.length > 3 && resolve())
    })
    expect(s.logs.snapshot().map((l) => l.text)).toEqual(all.slice(-2))
  })
})
