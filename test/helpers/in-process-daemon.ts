// The real daemon (startDaemon: catalog, scheduler, task runner, API) run in
// the test's own process on 127.0.0.1:0, so that its clock can be set, and
// spoken to over real HTTP. Its log lines are kept for the test to read.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaemon } from '../../src-daemon/main'
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
  /** Waits for a task to end (done, failed or canceled) and returns it. */
  settled(task: string, timeoutMs?: number): Promise<any>
  close(): Promise<void>
}

export async function startInProcess(opts: {
  dataDir: string
  clock: { now(): number }
  log?: string[]
}): Promise<InProcessDaemon> {
  const log = opts.log ?? []
  const daemon = await startDaemon({
    dataDir: opts.dataDir,
    listen: { host: '127.0.0.1', port: 0 },
    log: createLogger('info', (line) => log.push(line)),
    clock: opts.clock,
    timezone: 'UTC',
    pluginDirs: [],
    keychain: 'off',
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
