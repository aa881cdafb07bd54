// Archives: list with filters, show, annotate, delete (purge), restore.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ArchiveRestore,
  ArchiveUpdate,
  ArchiveVerify,
  ArchivesQuery,
  UuidParams,
  type Scheduled,
  type Updated,
} from '../../contract'
import type { Services } from '../../services'
import { optionalBody } from '../validation'

type Uuid = { Params: Static<typeof UuidParams> }

export function archiveRoutes(app: FastifyInstance, s: Services): void {
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
  app.post<Uuid & { Body: Static<typeof ArchiveRestore> }>(
    '/v1/archive/:uuid/restore',
    { schema: { params: UuidParams, body: optionalBody(ArchiveRestore) } },
    (req): Scheduled => {
      const task = s.archives.restore(req.params.uuid, req.body.target, req.body.owner ?? 'anon')
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
}
