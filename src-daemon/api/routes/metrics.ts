// GET /metrics for Prometheus, outside /v1 where scrapers look for it. The
// guard admits the API token or the read-only metrics token here (and the
// metrics token nowhere else), so a scrape config need not hold the API token.
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services'
import { bytes } from '../responses'

/** The metrics token's file in the data directory (0600, made at first start). */
export const METRICS_TOKEN_FILE = 'metrics-token'
export const METRICS_PATH = '/metrics'

export function metricsRoutes(app: FastifyInstance, s: Services): void {
  s.metrics.enableProcessMetrics()
  app.get(
    METRICS_PATH,
    {
      schema: {
        response: bytes('text/plain; version=0.0.4', 'metrics in the Prometheus text format'),
      },
    },
    async (_req, reply) => {
      const { contentType, text } = await s.metrics.scrape(s.health)
      return reply.header('cache-control', 'no-store').type(contentType).send(text)
    },
  )
}
