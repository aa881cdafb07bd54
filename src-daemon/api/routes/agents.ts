// Remote agents: GET/POST /v1/agents, GET/DELETE /v1/agent/:ref (a uuid or a name),
// POST /v1/agent/:ref/token (a new pairing token for an agent that exists).
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  AgentCreatedSchema,
  AgentTokenSchema,
  AgentViewSchema,
  DeletedSchema,
  PageQuery,
  type Deleted,
} from '../../contract'
import { AgentCreate, type AgentCreateInput } from '../../contract/agents'
import type { Services } from '../../services'
import { pageInOrder } from '../../services/paging'
import { sendPage } from '../paging'
import { answers, listOf } from '../responses'

const Ref = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 200 }) })

export function agentRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/v1/agents',
    { schema: { querystring: PageQuery, response: listOf(AgentViewSchema) } },
    (req, reply) => sendPage(req, reply, pageInOrder('agents', s.agents.list(), req.query)),
  )
  app.post<{ Body: AgentCreateInput }>(
    '/v1/agents',
    { schema: { body: AgentCreate, response: answers(AgentCreatedSchema) } },
    (req) => s.agents.create(req.body),
  )
  app.get<{ Params: Static<typeof Ref> }>(
    '/v1/agent/:ref',
    { schema: { params: Ref, response: answers(AgentViewSchema) } },
    (req) => s.agents.get(req.params.ref),
  )
  app.post<{ Params: Static<typeof Ref> }>(
    '/v1/agent/:ref/token',
    { schema: { params: Ref, response: answers(AgentTokenSchema) } },
    (req) => s.agents.newToken(req.params.ref),
  )
  app.delete<{ Params: Static<typeof Ref> }>(
    '/v1/agent/:ref',
    { schema: { params: Ref, response: answers(DeletedSchema) } },
    (req): Deleted => {
      s.agents.delete(req.params.ref)
      return { ok: 'deleted' }
    },
  )
}
