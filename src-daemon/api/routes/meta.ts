// Ping, status, the daemon's public key, installed plugins, the event stream.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { NameParams, PluginsQuery, type DaemonEvent, type Ping } from '../../contract'
import type { Services } from '../../services'

const HEARTBEAT_MS = 15_000

export function metaRoutes(
  app: FastifyInstance,
  s: Services,
  info: { version: string; pubkey: string },
): void {
  app.get('/v1/ping', (): Ping => ({ ok: 'pong', version: info.version }))
  app.get('/v1/status', () => s.meta.status())
  app.get('/v1/meta/pubkey', (_req, reply) => reply.type('text/plain').send(info.pubkey + '\n'))
  app.get<{ Querystring: Static<typeof PluginsQuery> }>(
    '/v1/plugins',
    { schema: { querystring: PluginsQuery } },
    (req) => s.meta.plugins(req.query.kind),
  )
  app.get<{ Params: Static<typeof NameParams>; Querystring: Static<typeof PluginsQuery> }>(
    '/v1/plugin/:name',
    { schema: { params: NameParams, querystring: PluginsQuery } },
    (req) => s.meta.plugin(req.params.name, req.query.kind),
  )
  app.get('/v1/events', (req, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    const send = (event: DaemonEvent) => res.write(`data: ${JSON.stringify(event)}\n\n`)
    send({ type: 'heartbeat', at: new Date().toISOString() })
    const unsubscribe = s.events.subscribe(send)
    const beat = setInterval(
      () => send({ type: 'heartbeat', at: new Date().toISOString() }),
      HEARTBEAT_MS,
    )
    req.raw.on('close', () => {
      clearInterval(beat)
      unsubscribe()
    })
  })
}
