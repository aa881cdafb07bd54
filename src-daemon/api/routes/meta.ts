// Ping, status, the daemon's public key, installed plugins, the event stream.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  DaemonStatusSchema,
  NameParams,
  PingSchema,
  PluginInfoSchema,
  PluginsQuery,
  type DaemonEvent,
  type Ping,
  type ResetEvent,
} from '../../contract'
import type { Logger } from '../../platform/logger'
import type { Services } from '../../services'
import { answers, bytes, listOf } from '../responses'

const HEARTBEAT_MS = 15_000
/** The vault format of docs/vault-format.md ("version" in vault.json). */
export const VAULT_FORMAT_VERSION = 1
/** Bytes waiting to be sent to an event-stream client beyond which it is dropped. */
export const MAX_UNSENT_BYTES = 1024 * 1024

export function metaRoutes(
  app: FastifyInstance,
  s: Services,
  info: { version: string; pubkey: string; log: Logger },
): void {
  const { log } = info
  app.get('/v1/ping', { schema: { response: answers(PingSchema) } }, (): Ping => ({
    ok: 'pong',
    version: info.version,
  }))
  // vault_format: the vault format version this daemon reads and writes
  // (docs/vault-format.md, checked in src-daemon/vault/config.ts, which the api
  // may not import); an added field, so older clients see nothing change.
  // test/ui/about-page.test.ts pins it to a real vault.json's version.
  app.get('/v1/status', { schema: { response: answers(DaemonStatusSchema) } }, () => ({
    ...s.meta.status(),
    vault_format: VAULT_FORMAT_VERSION,
  }))
  app.get(
    '/v1/meta/pubkey',
    { schema: { response: bytes('text/plain', "the daemon's public key (PEM)") } },
    (_req, reply) => reply.type('text/plain').send(info.pubkey + '\n'),
  )
  app.get<{ Querystring: Static<typeof PluginsQuery> }>(
    '/v1/plugins',
    { schema: { querystring: PluginsQuery, response: listOf(PluginInfoSchema) } },
    (req) => s.meta.plugins(req.query.kind),
  )
  app.get<{ Params: Static<typeof NameParams>; Querystring: Static<typeof PluginsQuery> }>(
    '/v1/plugin/:name',
    {
      schema: {
        params: NameParams,
        querystring: PluginsQuery,
        response: answers(PluginInfoSchema),
      },
    },
    (req) => s.meta.plugin(req.params.name, req.query.kind),
  )
  // HEAD (which Fastify routes here too) gets the stream's headers and ends at
  // once. A client that stops reading is dropped (the connection closed) once
  // more than MAX_UNSENT_BYTES wait to be sent to it, rather than the daemon
  // buffering events for it without limit; it can reconnect and resume.
  //
  // Each bus event goes out with its id. A client that sends Last-Event-ID gets
  // the events after it from the bus's ring first, or a `reset` event when the
  // ring no longer holds them all. A block with only an `id:` (no data) then
  // tells every client where the stream stands, so it can resume even if it
  // drops before the next event.
  app.get(
    '/v1/events',
    {
      schema: {
        response: bytes(
          'text/event-stream',
          'server-sent events: DaemonEvent JSON in each data line',
        ),
      },
    },
    (req, reply) => {
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      if (req.method === 'HEAD') {
        res.end()
        return
      }
      let open = true
      const close = () => {
        if (!open) return
        open = false
        clearInterval(beat)
        unsubscribe()
      }
      // A replay may be larger than MAX_UNSENT_BYTES; it is bounded by the ring.
      let allowance = MAX_UNSENT_BYTES
      const write = (text: string) => res.write(text)
      const frame = (event: DaemonEvent | ResetEvent, id?: number) =>
        `${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(event)}\n\n`
      const send = (event: DaemonEvent, id?: number) => {
        if (!open) return
        if (res.writableLength > allowance) {
          log.warn(
            `event stream: dropping a client that is not reading (${res.writableLength} bytes unsent); it can reconnect`,
          )
          close()
          res.destroy()
          return
        }
        write(frame(event, id))
      }
      const heartbeat = (): DaemonEvent => ({ type: 'heartbeat', at: new Date().toISOString() })
      write(frame(heartbeat()))
      // From here to subscribe() nothing yields to the event loop: no event falls between.
      const resumeFrom = lastEventId(req.headers['last-event-id'])
      if (resumeFrom !== undefined) {
        const missed = s.events.since(resumeFrom)
        if (missed) {
          const before = res.writableLength
          for (const m of missed) write(frame(m.event, m.id))
          allowance += res.writableLength - before
        } else {
          const reason = `the daemon no longer holds the events after ${resumeFrom}; read the state again`
          write(frame({ type: 'reset', at: new Date().toISOString(), reason }))
        }
      }
      write(`id: ${s.events.lastId}\n\n`)
      const unsubscribe = s.events.subscribe(send)
      const beat = setInterval(() => send(heartbeat()), HEARTBEAT_MS)
      req.raw.on('close', close)
      res.on('close', close)
    },
  )
}

/** The Last-Event-ID header as an id; a malformed one resumes from nothing (reset). */
function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header[0] : header
  return text !== undefined && /^\d{1,16}$/.test(text.trim()) ? Number(text.trim()) : -1
}
