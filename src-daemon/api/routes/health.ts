// GET /v1/health: the health signals raised now (services/health.ts).
import type { FastifyInstance } from 'fastify'
import { HealthReportSchema, type HealthReport } from '../../contract'
import type { Services } from '../../services'
import { answers } from '../responses'

export function healthRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/health', { schema: { response: answers(HealthReportSchema) } }, (): HealthReport =>
    s.health.report(),
  )
}
