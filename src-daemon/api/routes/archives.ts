// Archives: list with filters, show, annotate, delete (purge), restore,
// verify, and download (with the token, or with a single-use ticket from
// download-link, which the guard checks).
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ArchiveDownloadQuery,
  ArchiveRestore,
  ArchiveUpdate,
  ArchiveVerify,
  ArchivesQuery,
  UuidParams,
  type DownloadLink,
  type Scheduled,
  type Updated,
} from '../../contract'
import { toIso } from '../../platform/clock'
import type { Services } from '../../services'
import { DownloadTickets } from '../tickets'
import { optionalBody } from '../validation'

type Uuid = { Params: Static<typeof UuidParams> }
const NoBody = Type.Object({}, { additionalProperties: false })

/**
 * `tickets` must be the instance the guard redeems download tickets with
 * (see tickets.ts); without one, links are issued that nothing accepts.
 */
export function archiveRoutes(
  app: FastifyInstance,
  s: Services,
  tickets: DownloadTickets = new DownloadTickets(),
): void {
  app.get<{ Querystring: Static<typeof ArchivesQuery> }>(
    '/v1/archives',
    { schema: { querystring: ArchivesQuery } },
    (req) => s.archives.list(req.query),
  )
  app.get<Uuid>('/v1/archive/:uuid', { schema: { params: UuidParams } }, (req) =>
    s.archives.get(req.params.uuid),
  )
  app.put<Uuid & { Body: Static<typeof ArchiveUpdate> }>(
    '/v1/archive/:uuid',
    { schema: { params: UuidParams, body: ArchiveUpdate } },
    (req): Updated => {
      s.archives.annotate(req.params.uuid, req.body.notes)
      return { ok: 'updated' }
    },
  )
  app.delete<Uuid>('/v1/archive/:uuid', { schema: { params: UuidParams } }, (req) => {
    const task = s.archives.delete(req.params.uuid, 'anon')
    return task ? { ok: 'deleted', task_uuid: task.uuid } : { ok: 'deleted' }
  })
  app.post<Uuid & { Body: Static<typeof ArchiveVerify> }>(
    '/v1/archive/:uuid/verify',
    { schema: { params: UuidParams, body: optionalBody(ArchiveVerify) } },
    (req): Scheduled => {
      const task = s.archives.verify(req.params.uuid, req.body.owner ?? 'anon')
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
  app.post<Uuid>(
    '/v1/archive/:uuid/download-link',
    { schema: { params: UuidParams, body: optionalBody(NoBody) } },
    (req): DownloadLink => {
      const archive = s.archives.downloadable(req.params.uuid)
      const { ticket, expiresAt } = tickets.issue(archive.uuid)
      return {
        url: `/v1/archive/${archive.uuid}/download?ticket=${ticket}`,
        expires_at: toIso(expiresAt),
      }
    },
  )
  // The guard has checked the bearer token or redeemed the ticket by now.
  app.get<Uuid & { Querystring: Static<typeof ArchiveDownloadQuery> }>(
    '/v1/archive/:uuid/download',
    {
      schema: { params: UuidParams, querystring: ArchiveDownloadQuery },
      // HEAD would read the archive only to throw it away.
      exposeHeadRoute: false,
    },
    async (req, reply) => {
      const stop = new AbortController()
      reply.raw.once('close', () => stop.abort())
      const download = await s.archives.download(req.params.uuid, stop.signal)
      reply
        .type('application/octet-stream')
        .header('content-disposition', attachment(download.filename))
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
      if (download.size !== null) reply.header('content-length', download.size)
      return reply.send(download.stream)
    },
  )
  app.post<Uuid & { Body: Static<typeof ArchiveRestore> }>(
    '/v1/archive/:uuid/restore',
    { schema: { params: UuidParams, body: optionalBody(ArchiveRestore) } },
    (req): Scheduled => {
      const task = s.archives.restore(req.params.uuid, req.body.target, req.body.owner ?? 'anon')
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
}

/** `attachment; filename="…"` for a name already made of safe characters (see safeName). */
function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/["\\]/g, '_')}"`
}
