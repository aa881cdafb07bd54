// Tasks: list, show with log, cancel.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { TasksQuery, UuidParams } from '../../contract'
import type { Services } from '../../services'

type Uuid = { Params: Static<typeof UuidParams> }

export function taskRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: Static<typeof TasksQuery> }>(
    '/v1/tasks',
    { schema: { querystring: TasksQuery } },
    (req) => s.tasks.list(req.query),
  )
  app.get<Uuid>('/v1/task/:uuid', { schema: { params: UuidParams } }, (req) =>
    s.tasks.get(req.params.uuid),
  )
  app.delete<Uuid>('/v1/task/:uuid', { schema: { params: UuidParams } }, (req) => {
    const outcome = s.tasks.cancel(req.params.uuid, 'anon')
    return { ok: outcome }
  })
}
