// The real daemon (startDaemon: catalog, scheduler, task runner, API) run in
// the test's own process on 127.0.0.1:0, so that its clock can be set, and
// spoken to over real HTTP. Its log lines are kept for the test to read.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaemon, type DaemonConfig } from '../../src-daemon/main'
import { createLogger } from '../../src-daemon/platform/logger'

/** Real time, moved by `offsetMs`. */
export class TestClock {
  offsetMs = 0
  now = () => Date.now() + this.offsetMs
}

export interface InProcessDaemon {
  url: string
  dataDir: string
  token: string
  log: string[]
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  /** Waits until `count` log lines contain `text` (woken by each new line) and returns them. */
  logged(text: string, count?: number, timeoutMs?: number): Promise<string[]>
  /** Waits for a task to end (done, failed or canceled) and returns it. */
  settled(task: string, timeoutMs?: number): Promise<any>
  close(): Promise<void>
}

export async function startInProcess(opts: {
  dataDir: string
  clock: { now(): number }
  log?: string[]
  plugins?: DaemonConfig['plugins']
}): Promise<InProcessDaemon> {
  const log = opts.log ?? []
  const waiters = new Set<() => void>()
  const daemon = await startDaemon({
    dataDir: opts.dataDir,
    listen: { host: '127.0.0.1', port: 0 },
    log: createLogger('info', (line) => {
      log.push(line)
      for (const wake of waiters) wake()
    }),
    clock: opts.clock,
    timezone: 'UTC',
    pluginDirs: [],
    keychain: 'off',
    ...(opts.plugins ? { plugins: opts.plugins } : {}),
  })
  const token = readFileSync(join(opts.dataDir, 'token'), 'utf8').trim()
  const api: InProcessDaemon['api'] = async (method, path, body) => {
    const res = await fetch(daemon.url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as never }
  }
  return {
    url: daemon.url,
    dataDir: opts.dataDir,
    token,
    log,
    api,
    logged(text, count = 1, timeoutMs = 30_000) {
      const matching = () => log.filter((l) => l.includes(text))
      return new Promise((resolve, reject) => {
        const check = () => {
          const lines = matching()
          if (lines.length < count) return
          finish()
          resolve(lines)
        }
        const timer = setTimeout(() => {
          finish()
          reject(
            new Error(
              `${matching().length} of ${count} log lines with "${text}":\n${log.join('\n')}`,
            ),
          )
        }, timeoutMs)
        const finish = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    async settled(task, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const t = (await api('GET', `/v1/task/${task}`)).body
        if (!['pending', 'running'].includes(t.status)) return t
        if (Date.now() > deadline) throw new Error(`task ${task} still ${t.status}:\n${t.log}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    close: () => daemon.close(),
  }
}
