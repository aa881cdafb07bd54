// GET /v1/health: the health signals raised now (services/health.ts).
import type { FastifyInstance } from 'fastify'
import type { HealthReport } from '../../contract'
import type { Services } from '../../services'

export function healthRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/health', (): HealthReport => s.health.report())
}
