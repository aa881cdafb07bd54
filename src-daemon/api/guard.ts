// Who may talk to the daemon: requests must name the daemon's own host (so a
// web page that rebinds DNS to 127.0.0.1 is refused) and, except for ping and
// the public key and the browser sign-in, carry the bearer token.
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BulwarkError, ErrorCode } from '../contract'
import { sendError } from './errors'
import { METRICS_PATH } from './routes/metrics'
import { admitsDownload, type DownloadTickets } from './tickets'

/** The routes that need no token (ping, the public key, the browser sign-in). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/v1/ping',
  '/v1/meta/pubkey',
  '/v1/auth/signin',
])
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
export function guard(
  token: string,
  hosts: () => Set<string> | null,
  downloads?: DownloadTickets,
  metricsToken?: string,
) {
  const expected = Buffer.from(`Bearer ${token}`)
  const scraper = metricsToken === undefined ? undefined : Buffer.from(`Bearer ${metricsToken}`)
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
    // The route the request reaches, not its raw URL: the router decodes
    // %-escapes, so "/%761/status" reaches /v1/status (the UI's catch-all and
    // an unknown path are judged by the URL).
    const routed = req.routeOptions.url
    const path = routed !== undefined && routed !== '/*' ? routed : (req.url.split('?')[0] ?? '')
    // Prometheus: the API token or the read-only metrics token, which opens nothing else.
    if (path === METRICS_PATH) {
      const given = Buffer.from(req.headers.authorization ?? '')
      const admits = (e: Buffer | undefined) =>
        e !== undefined && given.length === e.length && timingSafeEqual(given, e)
      if (admits(expected) || admits(scraper)) return
      reply.header('www-authenticate', 'Bearer realm="bulwark"')
      return sendError(
        reply,
        new BulwarkError(
          ErrorCode.Unauthorized,
          'missing or wrong token: send "Authorization: Bearer <token>" with the metrics-token (or token) file from the data directory',
        ),
      )
    }
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
