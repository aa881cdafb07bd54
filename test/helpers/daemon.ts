// Starts the real, built daemon (`node bin/bulwark.js daemon`) on 127.0.0.1:0
// with a temporary data directory, talks to it over real HTTP, and waits for
// lines in its log (waitForLog).
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

export const ROOT = resolve(import.meta.dirname, '../..')
export const BULWARK_BIN = join(ROOT, 'bin', 'bulwark.js')

export interface RunningDaemon {
  url: string
  /** The one-time link that signs a browser in to the UI. */
  signInUrl: string
  token: string
  dataDir: string
  pid: number
  child: ChildProcess
  /** Lines the daemon wrote to stderr (its log). */
  stderr: string[]
  stop(): Promise<void>
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
}

/** Each daemon's log as it grows: a 'line' event per stderr line. */
const logEvents = new WeakMap<RunningDaemon, EventEmitter>()

/**
 * Waits until the daemon's log (its stderr, debug level in tests) has `count`
 * lines matching `match` (a substring, a RegExp or a test), counting lines already
 * there; resolves with the matching lines. Fails after `timeoutMs`, or as soon
 * as the daemon exits, showing the end of its log.
 */
export function waitForLog(
  d: RunningDaemon,
  match: string | RegExp | ((line: string) => boolean),
  opts: { count?: number; timeoutMs?: number } = {},
): Promise<string[]> {
  const { count = 1, timeoutMs = 30_000 } = opts
  const matches = (l: string) =>
    typeof match === 'string'
      ? l.includes(match)
      : match instanceof RegExp
        ? match.test(l)
        : match(l)
  const found = () => d.stderr.filter(matches)
  if (found().length >= count) return Promise.resolve(found())
  const tail = () => d.stderr.slice(-30).join('\n')
  if (d.child.exitCode !== null || d.child.signalCode !== null)
    return Promise.reject(new Error(`the daemon has exited; no line matching ${match}:\n${tail()}`))
  const events = logEvents.get(d)!
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      done()
      reject(new Error(`${why} ${count} line(s) matching ${match}:\n${tail()}`))
    }
    const onLine = (l: string) => {
      if (!matches(l) || found().length < count) return
      done()
      resolve(found())
    }
    const onExit = () => fail('the daemon exited before logging')
    const timer = setTimeout(() => fail(`after ${timeoutMs} ms, still no`), timeoutMs)
    const done = () => {
      clearTimeout(timer)
      events.off('line', onLine)
      d.child.off('exit', onExit)
    }
    events.on('line', onLine)
    d.child.once('exit', onExit)
  })
}

export function tempDir(prefix = 'bulwark-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface StartOptions {
  dataDir?: string
  /** Added to the environment; BULWARK_KEYCHAIN is off unless given here. */
  env?: Record<string, string>
  args?: string[]
  /**
   * A command that runs the daemon, given its command line as its last
   * arguments (such as a shell that starts a D-Bus session first). The daemon
   * is then stopped by its own pid, not the wrapper's.
   */
  prefix?: string[]
}

export async function startDaemon(opts: StartOptions = {}): Promise<RunningDaemon> {
  const ownDir = !opts.dataDir
  const dataDir = opts.dataDir ?? tempDir()
  const prefix = opts.prefix ?? []
  const child = spawn(
    prefix[0] ?? process.execPath,
    [
      ...(prefix.length > 0 ? [...prefix.slice(1), process.execPath] : []),
      BULWARK_BIN,
      'daemon',
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--ready-json',
      ...(opts.args ?? []),
    ],
    {
      // Tests never touch the keychain of the machine they run on unless they ask.
      env: { ...process.env, BULWARK_LOG_LEVEL: 'debug', BULWARK_KEYCHAIN: 'off', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const stderr: string[] = []
  const events = new EventEmitter()
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l)
    events.emit('line', l)
  })
  const ready = await new Promise<{ url: string; pid: number; signin_url: string }>(
    (resolvePromise, reject) => {
      const lines = createInterface({ input: child.stdout! })
      lines.once('line', (line) => {
        try {
          resolvePromise(JSON.parse(line))
        } catch {
          reject(new Error(`daemon said: ${line}`))
        }
      })
      child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${stderr.join('\n')}`)))
    },
  )
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim()
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const running: RunningDaemon = {
    url: ready.url,
    signInUrl: ready.signin_url,
    token,
    dataDir,
    pid: ready.pid,
    child,
    stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        if (prefix.length > 0) process.kill(ready.pid, 'SIGTERM')
        else child.kill('SIGTERM')
        await exited
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    },
    async api(method, path, body) {
      const res = await fetch(ready.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body:
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // plain text (pubkey)
      }
      return { status: res.status, body: parsed as never }
    },
  }
  logEvents.set(running, events)
  return running
}

export async function runCli(
  args: string[],
  opts: {
    dataDir?: string
    env?: Record<string, string>
    input?: string
    cwd?: string
    /** Called with all the stdout so far, as it comes (to wait for what a command prints). */
    onStdout?: (stdout: string) => void
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) }
  delete env.BULWARK_URL
  delete env.BULWARK_TOKEN
  const child = spawn(process.execPath, [BULWARK_BIN, ...args], {
    cwd: opts.cwd,
    env: {
      ...env,
      BULWARK_KEYCHAIN: 'off',
      ...(opts.dataDir ? { BULWARK_HOME: opts.dataDir } : {}),
      ...opts.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
    opts.onStdout?.(stdout)
  })
  child.stderr.on('data', (d) => (stderr += d))
  child.stdin.end(opts.input ?? '')
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)))
  return { code, stdout, stderr }
}
