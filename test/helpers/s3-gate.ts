// A gate in front of a real S3-compatible server (s3rver): every request is
// forwarded as it is, unless the test's rule says to hold it (until the
// test opens the gate again) or to answer it with an error itself. This is
// how tests put a store into a known state mid-operation (a GC halfway
// through its deletes, a store that fails one call in N, a server that stops
// answering) without sleeping and without touching the daemon's code.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { S3TestServer } from './s3-server'

export type GateAction = 'pass' | 'hold' | { status: number; code: string }

export interface S3Gate {
  endpoint: string
  /** s3.storeEndpoint(fields) pointing at the gate. */
  storeEndpoint(fields?: Record<string, unknown>): Record<string, unknown>
  /** Decides each request's fate; default: pass. */
  rule: (req: { method: string; url: string; n: number }) => GateAction
  /** Requests seen so far (method and path). */
  seen: { method: string; url: string }[]
  /** Requests held right now. */
  held(): number
  /** Resolves once `count` requests are held. */
  waitHeld(count?: number): Promise<void>
  /** Lets every held request through (and no longer holds new ones unless the rule says so). */
  release(): void
  /** Drops held requests' connections. */
  dropHeld(): void
  stop(): Promise<void>
}

export async function startS3Gate(s3: S3TestServer): Promise<S3Gate> {
  const upstream = new URL(s3.endpoint)
  const holding: { go: () => void; res: ServerResponse }[] = []
  const waiters: { count: number; resolve: () => void }[] = []
  const sockets = new Set<Socket>()
  let n = 0

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      },
    )
    up.on('error', () => res.destroy())
    up.end(body)
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => {
      const body = Buffer.concat(parts)
      const method = req.method ?? 'GET'
      const url = req.url ?? '/'
      gate.seen.push({ method, url })
      const action = gate.rule({ method, url, n: n++ })
      if (action === 'pass') return forward(req, res, body)
      if (action === 'hold') {
        holding.push({ go: () => forward(req, res, body), res })
        for (const w of [...waiters]) {
          if (holding.length >= w.count) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve()
          }
        }
        return
      }
      res.writeHead(action.status, { 'content-type': 'application/xml' })
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${action.code}</Code><Message>injected by the test</Message></Error>`,
      )
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`

  const gate: S3Gate = {
    endpoint,
    storeEndpoint: (fields = {}) => s3.storeEndpoint({ endpoint, ...fields }),
    rule: () => 'pass',
    seen: [],
    held: () => holding.length,
    waitHeld: (count = 1) =>
      holding.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    release() {
      gate.rule = () => 'pass'
      for (const h of holding.splice(0)) h.go()
    },
    dropHeld() {
      for (const h of holding.splice(0)) h.res.destroy()
    },
    async stop() {
      gate.dropHeld()
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
  return gate
}
