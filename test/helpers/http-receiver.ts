// An HTTP receiver for notification tests: records every request (method,
// path, headers, body) and answers 200, 400 on a path containing "refuse",
// nothing ever on one containing "hang", or first the statuses a test
// scripted for the path; tests wait for requests to arrive.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export class Receiver {
  readonly got: Received[] = []
  private readonly scripted = new Map<string, number[]>()
  private readonly waiters: (() => void)[] = []
  private server: Server | undefined
  url = ''

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        const path = req.url ?? ''
        this.got.push({ method: req.method ?? '', path, headers: req.headers, body })
        if (path.includes('hang')) {
          for (const wake of this.waiters.splice(0)) wake()
          return // never answers
        }
        const status = this.scripted.get(path)?.shift() ?? (path.includes('refuse') ? 400 : 200)
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(status === 400 ? '{"error":"no such hook here"}' : status >= 500 ? 'busy' : 'ok')
        for (const wake of this.waiters.splice(0)) wake()
      })
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`
  }

  answer(path: string, statuses: number[]): void {
    this.scripted.set(path, [...statuses])
  }

  at(path: string): Received[] {
    return this.got.filter((r) => r.path === path)
  }

  /** Waits until `n` requests reached the path. */
  async waitFor(path: string, n = 1, timeoutMs = 20_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs
    while (this.at(path).length < n) {
      if (Date.now() > deadline) {
        throw new Error(`${path} got ${this.at(path).length} request(s), not ${n}`)
      }
      await new Promise<void>((r) => {
        this.waiters.push(r)
        setTimeout(r, 500)
      })
    }
    return this.at(path)
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((r) => this.server?.close(() => r()))
  }
}
