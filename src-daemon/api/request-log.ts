// One log event per answered request: method, path, status, time taken. It
// never carries a secret: no header is logged (the token travels in
// Authorization), no body (sign-in codes, endpoint secrets), and a query
// value whose name says it opens something (a download ticket, a token, a
// code) is masked. Reads log at debug (the UI polls), changes at info (who
// changed what is worth keeping), server errors at warn.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../platform/logger'

const OPENS = /ticket|token|code|secret|passw|key|sig/i

/** The request's path with the values of query parameters that open something masked. */
export function loggedPath(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return url
  const query = new URLSearchParams(url.slice(at + 1))
  const kept = [...query].map(([k, v]) => `${k}=${OPENS.test(k) ? '<redacted>' : v}`)
  return `${url.slice(0, at)}?${kept.join('&')}`
}

export function requestLogger(log: Logger) {
  return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const status = reply.statusCode
    const level =
      status >= 500 ? 'warn' : /^(GET|HEAD|OPTIONS)$/.test(req.method) ? 'debug' : 'info'
    log[level]('request', {
      method: req.method,
      path: loggedPath(req.url),
      status,
      ms: Math.round(reply.elapsedTime),
    })
    done()
  }
}
