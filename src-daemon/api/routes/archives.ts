// Archives: list with filters, show, annotate, delete (purge), restore,
// verify, and download (with the token, or with a single-use ticket from
// download-link, which the guard checks); of a tree archive, a download may
// ask for one file, or a folder as a tar or zip (services/tree-download.ts).
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ArchiveDownloadLink,
  ArchiveDownloadQuery,
  ArchiveRestore,
  ArchiveUpdate,
  ArchiveVerify,
  ArchiveDeletedSchema,
  ArchiveSchema,
  ArchivesQuery,
  DownloadLinkSchema,
  ScheduledSchema,
  UpdatedSchema,
  UuidParams,
  invalid,
  type Archive,
  type DownloadLink,
  type TreeDownloadPart,
  type Scheduled,
  type Updated,
} from '../../contract'
import { toIso } from '../../platform/clock'
import type { Services } from '../../services'
import type { TreeDownload } from '../../services/tree-download'
import { DownloadTickets, downloadQuery } from '../tickets'
import { answers, bytes, listOf } from '../responses'
import { sendPage } from '../paging'
import { optionalBody } from '../validation'

type Uuid = { Params: Static<typeof UuidParams> }

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
    { schema: { querystring: ArchivesQuery, response: listOf(ArchiveSchema) } },
    (req, reply) => sendPage(req, reply, s.archives.page(req.query)),
  )
  app.get<Uuid>(
    '/v1/archive/:uuid',
    { schema: { params: UuidParams, response: answers(ArchiveSchema) } },
    (req) => s.archives.get(req.params.uuid),
  )
  app.put<Uuid & { Body: Static<typeof ArchiveUpdate> }>(
    '/v1/archive/:uuid',
    { schema: { params: UuidParams, body: ArchiveUpdate, response: answers(UpdatedSchema) } },
    (req): Updated => {
      s.archives.annotate(req.params.uuid, req.body.notes)
      return { ok: 'updated' }
    },
  )
  app.delete<Uuid>(
    '/v1/archive/:uuid',
    { schema: { params: UuidParams, response: answers(ArchiveDeletedSchema) } },
    (req) => {
      const task = s.archives.delete(req.params.uuid, 'anon')
      return task ? { ok: 'deleted', task_uuid: task.uuid } : { ok: 'deleted' }
    },
  )
  app.post<Uuid & { Body: Static<typeof ArchiveVerify> }>(
    '/v1/archive/:uuid/verify',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(ArchiveVerify),
        response: answers(ScheduledSchema),
      },
    },
    (req): Scheduled => {
      const task = s.archives.verify(req.params.uuid, req.body.owner ?? 'anon')
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
  app.post<Uuid & { Body: Static<typeof ArchiveDownloadLink> }>(
    '/v1/archive/:uuid/download-link',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(ArchiveDownloadLink),
        response: answers(DownloadLinkSchema),
      },
    },
    (req): DownloadLink => {
      const archive = s.archives.downloadable(req.params.uuid)
      const part = downloadPart(archive.format, req.body ?? {})
      // The ticket is bound to the part as the link writes it (tickets.ts).
      const { ticket, expiresAt } = tickets.issue(archive.uuid, part)
      return {
        url: `/v1/archive/${archive.uuid}/download?${downloadQuery(ticket, part)}`,
        expires_at: toIso(expiresAt),
      }
    },
  )
  // The guard has checked the bearer token or redeemed the ticket by now.
  app.get<Uuid & { Querystring: Static<typeof ArchiveDownloadQuery> }>(
    '/v1/archive/:uuid/download',
    {
      schema: {
        params: UuidParams,
        querystring: ArchiveDownloadQuery,
        response: bytes(
          'application/octet-stream',
          'the archive, a file of it, or a folder as tar or zip',
        ),
      },
      // HEAD would read the archive only to throw it away.
      exposeHeadRoute: false,
    },
    async (req, reply) => {
      const stop = new AbortController()
      reply.raw.once('close', () => stop.abort())
      const { ticket: _ticket, ...asked } = req.query
      const archive = s.archives.downloadable(req.params.uuid)
      const part = downloadPart(archive.format, asked)
      const download: TreeDownload =
        archive.format === 'tree'
          ? await s.trees.download(archive.uuid, part, stop.signal)
          : await s.archives.download(archive.uuid, stop.signal)
      reply
        .type('application/octet-stream')
        .header('content-disposition', attachment(download.filename, download.name))
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
      if (download.size !== null) reply.header('content-length', download.size)
      return reply.send(download.stream)
    },
  )
  app.post<Uuid & { Body: Static<typeof ArchiveRestore> }>(
    '/v1/archive/:uuid/restore',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(ArchiveRestore),
        response: answers(ScheduledSchema),
      },
    },
    async (req): Promise<Scheduled> => {
      const { target, owner, paths, to, conflict } = req.body
      const task = await s.archives.restore(req.params.uuid, target, owner ?? 'anon', {
        paths,
        to,
        conflict,
      })
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
}

/**
 * The part of a tree archive a download asks for; a single-dump archive has
 * no parts, so naming one is a 400 rather than silently sending it whole.
 */
function downloadPart(
  format: Archive['format'] | undefined,
  part: TreeDownloadPart,
): TreeDownloadPart {
  if (format !== 'tree' && (part.path !== undefined || part.format !== undefined)) {
    throw invalid(
      part.path !== undefined ? 'path' : 'format',
      'this archive is a single dump, not a directory tree: it downloads whole, without path or format',
    )
  }
  return part
}

/**
 * `attachment; filename="…"` for a name already made of safe characters (see
 * safeName), and with the file's own name when it has others (`filename*`,
 * RFC 6266: "Été 2026.odt" rather than "Ete-2026.odt", for clients that read it).
 */
function attachment(filename: string, name?: string): string {
  const plain = `attachment; filename="${filename.replace(/["\\]/g, '_')}"`
  if (name === undefined || name === filename) return plain
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16)}`,
  )
  return `${plain}; filename*=UTF-8''${encoded}`
}
