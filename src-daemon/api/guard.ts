// Who may talk to the daemon: requests must name the daemon's own host (so a
// web page that rebinds DNS to 127.0.0.1 is refused) and, except for ping and
// the public key and the browser sign-in, carry the bearer token.
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BulwarkError, ErrorCode } from '../contract'
import { sendError } from './errors'
import { admitsDownload, type DownloadTickets } from './tickets'

const PUBLIC_PATHS = new Set(['/v1/ping', '/v1/meta/pubkey', '/v1/auth/signin'])
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']

/** The Host header values this daemon answers to, given the address it listens on. */
export function allowedHosts(listenHost: string, port: number, extra: string[] = []): Set<string> {
  const hosts = new Set<string>()
  const names = [listenHost.includes(':') ? `[${listenHost}]` : listenHost, ...extra]
  if (['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::'].includes(listenHost))
    names.push(...LOOPBACK_NAMES)
  for (const name of names) {
    hosts.add(`${name}:${port}`)
    if (port === 80) hosts.add(name)
  }
  return hosts
}

/** `hosts()` gives the accepted Host values, or null to accept any (listening on all interfaces). */
export function guard(token: string, hosts: () => Set<string> | null, downloads?: DownloadTickets) {
  const expected = Buffer.from(`Bearer ${token}`)
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const host = (req.headers.host ?? '').toLowerCase()
    const accepted = hosts()
    if (accepted !== null && !accepted.has(host)) {
      return sendError(
        reply,
        new BulwarkError(
          ErrorCode.ForbiddenHost,
          `requests must be addressed to this daemon (${[...accepted][0] ?? ''}), not "${host}"`,
        ),
      )
    }
    const path = req.url.split('?')[0] ?? ''
    if (!path.startsWith('/v1/') || PUBLIC_PATHS.has(path)) return
    // A browser's download link: a single-use ticket stands in for the token.
    if (downloads && admitsDownload(downloads, req.method, req.url)) return
    const given = Buffer.from(req.headers.authorization ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply.header('www-authenticate', 'Bearer realm="bulwark"')
      return sendError(
        reply,
        new BulwarkError(
          ErrorCode.Unauthorized,
          'missing or wrong token: send "Authorization: Bearer <token>" with the token from the data directory',
        ),
      )
    }
  }
}
