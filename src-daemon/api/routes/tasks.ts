// Tasks: list, show with log, cancel.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  TaskCancelQuery,
  TaskCanceledSchema,
  TaskQuery,
  TaskSchema,
  TasksQuery,
  UuidParams,
} from '../../contract'
import type { Services } from '../../services'
import { sendPage } from '../paging'
import { answers, listOf } from '../responses'

type Uuid = { Params: Static<typeof UuidParams> }

export function taskRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: Static<typeof TasksQuery> }>(
    '/v1/tasks',
    { schema: { querystring: TasksQuery, response: listOf(TaskSchema) } },
    (req, reply) => sendPage(req, reply, s.tasks.page(req.query)),
  )
  app.get<Uuid & { Querystring: Static<typeof TaskQuery> }>(
    '/v1/task/:uuid',
    { schema: { params: UuidParams, querystring: TaskQuery, response: answers(TaskSchema) } },
    (req) => s.tasks.get(req.params.uuid, Number(req.query.since ?? 0)),
  )
  app.delete<Uuid & { Querystring: Static<typeof TaskCancelQuery> }>(
    '/v1/task/:uuid',
    {
      schema: {
        params: UuidParams,
        querystring: TaskCancelQuery,
        response: answers(TaskCanceledSchema),
      },
    },
    (req) => {
      const outcome = s.tasks.cancel(req.params.uuid, req.query.owner ?? 'anon')
      return { ok: outcome }
    },
  )
}
