// The /v1 HTTP API: one fastify instance with schema validation at the edge,
// the host and token guard, one error handler, and thin route modules that
// call services.
import Fastify, { type FastifyInstance } from 'fastify'
import { BulwarkError, ErrorCode } from '../contract'
import type { Logger } from '../platform/logger'
import type { Services } from '../services'
import { errorHandler, sendError } from './errors'
import { guard, PUBLIC_PATHS } from './guard'
import { requestLogger } from './request-log'
import type { OneTimeCodes } from './one-time'
import { authRoutes } from './routes/auth'
import type { DownloadTickets } from './tickets'
import { agentRoutes } from './routes/agents'
import { archiveRoutes } from './routes/archives'
import { channelRoutes } from './routes/channels'
import { configRoutes } from './routes/config'
import { healthRoutes } from './routes/health'
import { jobRoutes } from './routes/jobs'
import { metaRoutes } from './routes/meta'
import { metricsRoutes } from './routes/metrics'
import { taskRoutes } from './routes/tasks'
import { treeRoutes } from './routes/trees'
import { openApiRoutes } from './openapi'
import { uiRoutes } from './ui'
import { typeboxValidatorCompiler } from './validation'

export interface ApiOptions {
  services: Services
  token: string
  /** The read-only token that opens GET /metrics and nothing else (routes/metrics.ts). */
  metricsToken?: string
  version: string
  pubkey: string
  log: Logger
  /** One-time codes that sign a browser in (see routes/auth.ts). */
  signIn: OneTimeCodes
  /** Single-use download tickets: issued by routes/archives.ts, redeemed by the guard. */
  downloads: DownloadTickets
  /** The daemon's own URL, once it listens. */
  url: () => string
  dataDir: string
  /** The built UI (out/renderer); without it `/` says how to build it. */
  uiDir?: string
  /** Host header values accepted; null accepts any (listening on all interfaces). */
  hosts: () => Set<string> | null
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
  })
  app.setValidatorCompiler(typeboxValidatorCompiler)
  // Response schemas describe answers (openapi.ts) but do not shape them:
  // fast-json-stringify would silently drop a field a schema lacks, so answers
  // are written as they are, and the contract test holds them to the schemas.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.setErrorHandler(errorHandler(opts.log))
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch (err) {
      done(
        new BulwarkError(
          ErrorCode.InvalidJson,
          `the body is not valid JSON (${(err as Error).message})`,
          'body',
        ),
        undefined,
      )
    }
  })
  app.addHook('onRequest', guard(opts.token, opts.hosts, opts.downloads, opts.metricsToken))
  app.addHook('onResponse', requestLogger(opts.log))
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new BulwarkError(
        ErrorCode.NotFound,
        `no such endpoint: ${req.method} ${req.url.split('?')[0]}`,
      ),
    ),
  )
  // First, so that its onRoute hook sees every route after it.
  openApiRoutes(app, { version: opts.version, publicPaths: PUBLIC_PATHS })
  uiRoutes(app, opts.uiDir)
  authRoutes(app, { codes: opts.signIn, token: opts.token, url: opts.url, dataDir: opts.dataDir })
  metaRoutes(app, opts.services, { version: opts.version, pubkey: opts.pubkey, log: opts.log })
  configRoutes(app, opts.services)
  jobRoutes(app, opts.services)
  archiveRoutes(app, opts.services, opts.downloads)
  treeRoutes(app, opts.services)
  taskRoutes(app, opts.services)
  channelRoutes(app, opts.services)
  agentRoutes(app, opts.services)
  healthRoutes(app, opts.services)
  metricsRoutes(app, opts.services)
  return app
}
