// GET /v1/openapi.json: an OpenAPI 3.1 document made from the routes fastify
// registered, with the schemas they validate (params, query, body) and declare
// (responses). OpenAPI 3.1 takes JSON Schema as it is, which TypeBox emits, so
// nothing is written twice; test/integration/api-openapi.test.ts validates it
// and checks it names every route.
import type { TSchema } from '@sinclair/typebox'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { ApiErrorSchema } from '../contract'

interface Collected {
  method: string
  url: string
  schema: Record<string, unknown>
}

/** Paths that need no token (guard.ts); every other one needs the bearer token. */
export interface OpenApiOptions {
  version: string
  publicPaths: ReadonlySet<string>
}

/**
 * Records each route as it is registered; call before any route is added.
 * The document is made at its first request, when every route is in.
 */
export function openApiRoutes(app: FastifyInstance, opts: OpenApiOptions): void {
  const routes: Collected[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      // HEAD is the GET route's (fastify adds it); the UI's catch-all has no OpenAPI path.
      if (method === 'HEAD' || route.url.includes('*')) continue
      routes.push({
        method,
        url: route.url,
        schema: (route.schema ?? {}) as Record<string, unknown>,
      })
    }
  })
  let doc: object | undefined
  // Under /v1, so the guard asks for the token as everywhere else: the document
  // says nothing secret, but it maps the API, and a client reads it with the
  // token it has anyway.
  app.get(
    '/v1/openapi.json',
    {
      schema: {
        response: {
          200: { description: 'this document', type: 'object', additionalProperties: true },
          '4xx': ApiErrorSchema,
          '5xx': ApiErrorSchema,
        },
      },
    },
    () => (doc ??= openApiDocument(routes, opts)),
  )
}

export function openApiDocument(routes: Collected[], opts: OpenApiOptions): object {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
    const operation: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
      responses: responses(r),
    }
    const parameters = [
      ...fields(r.schema.params, 'path'),
      ...fields(r.schema.querystring, 'query'),
    ]
    if (parameters.length) operation.parameters = parameters
    const body = r.schema.body as Record<string, unknown> | undefined
    if (body) {
      operation.requestBody = {
        required: body['x-optional-body'] !== true,
        content: { 'application/json': { schema: plain(body) } },
      }
    }
    if (opts.publicPaths.has(r.url) || !r.url.startsWith('/v1/')) operation.security = []
    ;(paths[path] ??= {})[r.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bulwark daemon API',
      version: opts.version,
      description:
        'The /v1 API of the Bulwark daemon (docs/api.md). Errors are {"error": {"code", "message", "field"?, "details"?}}.',
    },
    components: {
      securitySchemes: {
        token: {
          type: 'http',
          scheme: 'bearer',
          description: 'the token file in the data directory',
        },
      },
    },
    security: [{ token: [] }],
    paths,
  }
}

/** TypeBox schemas carry symbol keys; the document holds plain JSON. */
const plain = (schema: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(schema)) as Record<string, unknown>

function fields(schema: unknown, where: 'path' | 'query'): object[] {
  if (!schema) return []
  const s = schema as { properties?: Record<string, TSchema>; required?: string[] }
  return Object.entries(s.properties ?? {}).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: plain(field),
  }))
}

const PAGE_HEADERS = {
  'X-Total-Count': {
    description: 'how many match the filters, across all pages',
    schema: { type: 'integer' },
  },
  'X-Next-Cursor': {
    description: 'the cursor of the next page; absent on the last page',
    schema: { type: 'string' },
  },
  Link: {
    description: '<the next page>; rel="next", when there is one',
    schema: { type: 'string' },
  },
}

function responses(r: Collected): Record<string, unknown> {
  const declared = (r.schema.response ?? {}) as Record<string, Record<string, unknown>>
  // A list that pages (a cursor in its query, an array answer) sends the page headers.
  const query = r.schema.querystring as { properties?: object } | undefined
  const paged = 'cursor' in (query?.properties ?? {}) && declared['200']?.type === 'array'
  const out: Record<string, unknown> = {}
  for (const [status, schema] of Object.entries(declared)) {
    const code = status.toUpperCase()
    const described: Record<string, unknown> =
      'content' in schema
        ? {
            description: String(schema.description ?? 'the answer'),
            content: plain(schema.content),
          }
        : {
            description: code.startsWith('2')
              ? String(schema.description ?? 'the answer')
              : 'an error: {"error": {"code", "message", "field"?, "details"?}}',
            content: { 'application/json': { schema: plain(schema) } },
          }
    if (paged && code.startsWith('2')) described.headers = PAGE_HEADERS
    out[code] = described
  }
  return out
}
