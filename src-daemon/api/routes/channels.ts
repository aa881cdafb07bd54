// Notification channels: the SHIELD resource shape (GET/POST /v1/channels,
// GET/PUT/DELETE /v1/channel/:uuid), a test message through a saved channel
// or one not saved yet, and the kinds with their settings' field specs.
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ChannelCreate,
  ChannelKindInfoSchema,
  ChannelSchema,
  ChannelUpdate,
  DeliverySchema,
  UuidParams,
  type ChannelCreateInput,
} from '../../contract'
import { answers, listOf } from '../responses'
import type { Services } from '../../services'
import { crudRoutes } from './crud'

const NoQuery = Type.Object({})

export function channelRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/channel-kinds', { schema: { response: listOf(ChannelKindInfoSchema) } }, () =>
    s.channels.kinds(),
  )
  crudRoutes(app, {
    plural: 'channels',
    singular: 'channel',
    item: ChannelSchema,
    query: NoQuery,
    create: ChannelCreate,
    update: ChannelUpdate,
    list: () => s.channels.list(),
    get: (uuid) => s.channels.get(uuid),
    add: (body) => s.channels.create(body),
    change: (uuid, body) => s.channels.update(uuid, body),
    remove: (uuid) => s.channels.delete(uuid),
  })
  // The receiver's refusal is an answer ({ok: false, detail}), not an HTTP error.
  app.post<{ Params: Static<typeof UuidParams> }>(
    '/v1/channel/:uuid/test',
    { schema: { params: UuidParams, response: answers(DeliverySchema) } },
    (req) => s.channels.test(req.params.uuid),
  )
  app.post<{ Body: ChannelCreateInput }>(
    '/v1/channels/test',
    { schema: { body: ChannelCreate, response: answers(DeliverySchema) } },
    (req) => s.channels.testUnsaved(req.body),
  )
}
