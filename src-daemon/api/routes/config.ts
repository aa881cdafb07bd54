// Targets, stores, schedules and retention policies.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ConnectionTestSchema,
  EndpointTest,
  RetentionSchema,
  SchedulePreviewResultSchema,
  ScheduleSchema,
  StoreSchema,
  TargetSchema,
  RetentionCreate,
  RetentionUpdate,
  ScheduleCreate,
  SchedulePreview,
  ScheduleUpdate,
  StoreCreate,
  StoreUpdate,
  TargetCreate,
  TargetUpdate,
  UsageQuery,
  UuidParams,
  type EndpointTestInput,
  type SchedulePreviewInput,
} from '../../contract'
import type { Services } from '../../services'
import { answers } from '../responses'
import { crudRoutes, flag } from './crud'
import { vaultRoutes } from './vault'

export function configRoutes(app: FastifyInstance, s: Services): void {
  for (const [plural, singular, service, create, update, item] of [
    ['targets', 'target', s.targets, TargetCreate, TargetUpdate, TargetSchema],
    ['stores', 'store', s.stores, StoreCreate, StoreUpdate, StoreSchema],
  ] as const) {
    crudRoutes(app, {
      plural,
      singular,
      item,
      query: UsageQuery,
      create,
      update,
      list: (q) => service.list({ unused: flag(q.unused), plugin: q.plugin }),
      get: (uuid) => service.get(uuid),
      add: (body) => service.create(body),
      change: (uuid, body) => service.update(uuid, body),
      remove: (uuid) => service.delete(uuid),
    })
    app.post<{ Params: Static<typeof UuidParams> }>(
      `/v1/${singular}/:uuid/test`,
      { schema: { params: UuidParams, response: answers(ConnectionTestSchema) } },
      (req) => service.test(req.params.uuid),
    )
    // An endpoint not saved yet (the form's Test before Create); answers as the route above.
    app.post<{ Body: EndpointTestInput }>(
      `/v1/${plural}/test`,
      { schema: { body: EndpointTest, response: answers(ConnectionTestSchema) } },
      (req) => service.testUnsaved(req.body),
    )
  }
  // A store's vault (registered here, with the stores, so server.ts needs no change).
  vaultRoutes(app, s)
  crudRoutes(app, {
    plural: 'schedules',
    singular: 'schedule',
    item: ScheduleSchema,
    query: UsageQuery,
    create: ScheduleCreate,
    update: ScheduleUpdate,
    list: (q) => s.schedules.list({ unused: flag(q.unused) }),
    get: (uuid) => s.schedules.get(uuid),
    add: (body) => s.schedules.create(body),
    change: (uuid, body) => s.schedules.update(uuid, body),
    remove: (uuid) => s.schedules.delete(uuid),
  })
  app.post<{ Body: SchedulePreviewInput }>(
    '/v1/schedules/preview',
    { schema: { body: SchedulePreview, response: answers(SchedulePreviewResultSchema) } },
    (req) => s.schedules.preview(req.body),
  )
  crudRoutes(app, {
    plural: 'retention',
    singular: 'retention',
    item: RetentionSchema,
    query: UsageQuery,
    create: RetentionCreate,
    update: RetentionUpdate,
    list: (q) => s.retention.list({ unused: flag(q.unused) }),
    get: (uuid) => s.retention.get(uuid),
    add: (body) => s.retention.create(body),
    change: (uuid, body) => s.retention.update(uuid, body),
    remove: (uuid) => s.retention.delete(uuid),
  })
}
