// Jobs, and running them: pause, unpause, run now.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  JobCreate,
  JobRun,
  JobSchema,
  JobUpdate,
  JobsQuery,
  ScheduledSchema,
  UpdatedSchema,
  UuidParams,
  type Scheduled,
  type Updated,
} from '../../contract'
import type { Services } from '../../services'
import { answers } from '../responses'
import { optionalBody } from '../validation'
import { crudRoutes, flag } from './crud'

type Uuid = { Params: Static<typeof UuidParams> }

export function jobRoutes(app: FastifyInstance, s: Services): void {
  crudRoutes(app, {
    plural: 'jobs',
    singular: 'job',
    item: JobSchema,
    query: JobsQuery,
    create: JobCreate,
    update: JobUpdate,
    list: (q) =>
      s.jobs.list({
        target_uuid: q.target,
        store_uuid: q.store,
        schedule_uuid: q.schedule,
        retention_uuid: q.retention,
        paused: flag(q.paused),
      }),
    get: (uuid) => s.jobs.get(uuid),
    add: (body) => s.jobs.create(body),
    change: (uuid, body) => s.jobs.update(uuid, body),
    remove: (uuid) => s.jobs.delete(uuid),
  })
  for (const [action, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    app.post<Uuid>(
      `/v1/job/:uuid/${action}`,
      { schema: { params: UuidParams, response: answers(UpdatedSchema) } },
      (req): Updated => {
        s.jobs.setPaused(req.params.uuid, paused)
        return { ok: 'updated' }
      },
    )
  }
  app.post<Uuid & { Body: Static<typeof JobRun> }>(
    '/v1/job/:uuid/run',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(JobRun),
        response: answers(ScheduledSchema),
      },
    },
    (req): Scheduled => {
      const task = s.jobs.run(req.params.uuid, req.body.owner ?? 'anon', {
        full_read: req.body.full_read,
      })
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
}
