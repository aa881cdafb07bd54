// The SHIELD resource shape, shared by targets, stores, schedules, retention
// policies and jobs: GET/POST on the plural path, GET/PUT/DELETE on /:uuid.
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  CreatedSchema,
  DeletedSchema,
  PageQuery,
  UpdatedSchema,
  UuidParams,
  type Created,
  type Deleted,
  type Updated,
} from '../../contract'
import { pageInOrder } from '../../services/paging'
import { sendPage } from '../paging'
import { answers, listOf } from '../responses'

interface Crud<Q extends TObject, C extends TSchema, U extends TSchema> {
  plural: string
  singular: string
  /** What GET answers for one (and the list for each). */
  item: TSchema
  query: Q
  create: C
  update: U
  list(query: Static<Q>): unknown
  get(uuid: string): unknown
  add(body: Static<C>): string
  change(uuid: string, body: Static<U>): void
  remove(uuid: string): void
}

type Uuid = { Params: Static<typeof UuidParams> }

export function crudRoutes<Q extends TObject, C extends TSchema, U extends TSchema>(
  app: FastifyInstance,
  r: Crud<Q, C, U>,
): void {
  const one = `/v1/${r.singular}/:uuid`
  app.get<{ Querystring: Static<Q> & Static<typeof PageQuery> }>(
    `/v1/${r.plural}`,
    {
      schema: {
        querystring: Type.Composite([r.query, PageQuery]),
        response: listOf(r.item),
      },
    },
    (req, reply) => {
      const { limit, cursor, ...filters } = req.query as Static<typeof PageQuery> &
        Record<string, unknown>
      const items = r.list(filters as Static<Q>) as { name: string; uuid: string }[]
      return sendPage(req, reply, pageInOrder(r.plural, items, { limit, cursor }))
    },
  )
  app.post<{ Body: Static<C> }>(
    `/v1/${r.plural}`,
    { schema: { body: r.create, response: answers(CreatedSchema) } },
    (req, reply) => {
      const created: Created = { ok: 'created', uuid: r.add(req.body) }
      return reply.code(200).send(created)
    },
  )
  app.get<Uuid>(one, { schema: { params: UuidParams, response: answers(r.item) } }, (req) =>
    r.get(req.params.uuid),
  )
  app.put<Uuid & { Body: Static<U> }>(
    one,
    { schema: { params: UuidParams, body: r.update, response: answers(UpdatedSchema) } },
    (req): Updated => {
      r.change(req.params.uuid, req.body)
      return { ok: 'updated' }
    },
  )
  app.delete<Uuid>(
    one,
    { schema: { params: UuidParams, response: answers(DeletedSchema) } },
    (req): Deleted => {
      r.remove(req.params.uuid)
      return { ok: 'deleted' }
    },
  )
}

export const flag = (value: string | undefined): boolean | undefined =>
  value === undefined ? undefined : value === 't' || value === 'true'
