// Serves the built UI (out/renderer) at `/`: a single page that talks to /v1.
// Only files inside the directory are served; hashed assets are cached for good,
// index.html never, so an upgraded daemon serves its own UI at once.
import { createReadStream, existsSync, statSync } from 'node:fs'
import { extname, join, normalize, sep } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { BulwarkError, ErrorCode } from '../contract'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

/** Scripts only from the daemon itself; styles inline too (the component library injects them). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

export function uiRoutes(app: FastifyInstance, dir: string | undefined): void {
  const root = dir && existsSync(join(dir, 'index.html')) ? normalize(dir) : undefined
  const send = (reply: FastifyReply, file: string) => {
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    const immutable = file.startsWith(join(root ?? '', 'assets') + sep)
    return reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .type(type)
      .send(createReadStream(file))
  }
  app.get(
    '/',
    {
      schema: {
        response: {
          200: {
            description: 'the UI (index.html), or a note that it is not built',
            content: {
              'text/html': { schema: { type: 'string' } },
              'text/plain': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    (_req, reply) => {
      if (!root) {
        return reply
          .type('text/plain')
          .send(
            'Bulwark daemon. The API is under /v1 (GET /v1/ping). The UI is not built: run `npm run build`.\n',
          )
      }
      return send(reply, join(root, 'index.html'))
    },
  )
  app.get('/*', (req, reply) => {
    const rel = decodeURIComponent((req.params as { '*': string })['*'] ?? '')
    if (rel === 'v1' || rel.startsWith('v1/')) {
      throw new BulwarkError(ErrorCode.NotFound, `no such endpoint: GET /${rel}`)
    }
    const file = root ? normalize(join(root, rel)) : undefined
    if (!root || !file || !file.startsWith(root + sep) || !isFile(file)) {
      return reply.code(404).type('text/plain').send(`not found: /${rel}\n`)
    }
    return send(reply, file)
  })
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
