// Starts the real, built daemon (`node bin/bulwark.js daemon`) on 127.0.0.1:0
// with a temporary data directory, and talks to it over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process'
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
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l))
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
  return {
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
}

export async function runCli(
  args: string[],
  opts: { dataDir?: string; env?: Record<string, string>; input?: string; cwd?: string } = {},
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
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  child.stdin.end(opts.input ?? '')
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)))
  return { code, stdout, stderr }
}
