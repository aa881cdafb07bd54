// Browsing directory (tree) archives: one directory's entries a page at a
// time, finding entries by a name glob, and what changed between two
// archives. Downloads of a file or a folder go through the archive's
// download route (archives.ts).
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  TreeDiffQuery,
  TreeDiffSchema,
  TreeFindQuery,
  TreePageSchema,
  TreeQuery,
  UuidParams,
} from '../../contract'
import type { Services } from '../../services'
import { answers } from '../responses'

type Uuid = { Params: Static<typeof UuidParams> }

export function treeRoutes(app: FastifyInstance, s: Services): void {
  app.get<Uuid & { Querystring: Static<typeof TreeQuery> }>(
    '/v1/archive/:uuid/tree',
    { schema: { params: UuidParams, querystring: TreeQuery, response: answers(TreePageSchema) } },
    (req) => s.trees.list(req.params.uuid, req.query),
  )
  app.get<Uuid & { Querystring: Static<typeof TreeFindQuery> }>(
    '/v1/archive/:uuid/find',
    {
      schema: { params: UuidParams, querystring: TreeFindQuery, response: answers(TreePageSchema) },
    },
    (req) => s.trees.find(req.params.uuid, req.query),
  )
  app.get<Uuid & { Querystring: Static<typeof TreeDiffQuery> }>(
    '/v1/archive/:uuid/diff',
    {
      schema: { params: UuidParams, querystring: TreeDiffQuery, response: answers(TreeDiffSchema) },
    },
    (req) => s.trees.diff(req.params.uuid, req.query.against),
  )
}
