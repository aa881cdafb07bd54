// The wire contract: GET /v1/openapi.json is a valid OpenAPI 3.1 document that
// names every route fastify registered (seen by fastify's own onRoute hook,
// not by the code that writes the document), each with a declared answer; and
// the daemon's real answers, over HTTP, match the schemas the document gives.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import Ajv2020 from 'ajv/dist/2020'
import type * as FastifyModule from 'fastify'
import type { RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const registered = vi.hoisted(() => [] as { method: string; url: string }[])
vi.mock('fastify', async (importOriginal) => {
  const real = await importOriginal<typeof FastifyModule>()
  const spied = (opts: object) => {
    const app = real.default(opts)
    app.addHook('onRoute', (r: RouteOptions) => {
      for (const method of [r.method].flat()) registered.push({ method, url: r.url })
    })
    return app
  }
  return { ...real, default: spied }
})

type Doc = {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, any>; security?: unknown[] }>>
}

let d: InProcessDaemon
let doc: Doc
const base = tempDir()
const ajv = new Ajv2020({ strict: false, allErrors: true })
/** Every (method, route, status) a real answer was checked against. */
const checked = new Set<string>()

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock: new TestClock() })
  const res = await fetch(`${d.url}/v1/openapi.json`, {
    headers: { authorization: `Bearer ${d.token}` },
  })
  expect(res.status).toBe(200)
  doc = (await res.json()) as Doc
})
afterAll(() => d?.close())

/** The route template a concrete path matches in the document. */
function templateOf(path: string): string {
  const bare = path.split('?')[0]!
  const hit = Object.keys(doc.paths).find((t) =>
    new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
  )
  if (!hit) throw new Error(`no path in the document matches ${bare}`)
  // A literal path wins over a template (/v1/stores/test over /v1/store/{uuid}).
  return Object.keys(doc.paths).includes(bare) ? bare : hit
}

/** Calls the daemon and checks the answer against the document's schema for it. */
async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(d.url + path, {
    method,
    headers: {
      authorization: `Bearer ${d.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  const template = templateOf(path)
  const op = doc.paths[template]![method.toLowerCase()]
  expect(op, `${method} ${template} in the document`).toBeDefined()
  const status = String(res.status)
  const declared = op!.responses[status] ?? op!.responses[`${status[0]}XX`]
  expect(declared, `${method} ${template} declares ${status}`).toBeDefined()
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
  const content = declared.content as Record<string, { schema: object }>
  const media = Object.keys(content).find((k) => k.split(';')[0]!.trim() === type)
  expect(media, `${method} ${template} ${status} declares ${type}`).toBeDefined()
  let parsed: any = text
  if (type === 'application/json') {
    parsed = JSON.parse(text)
    const validate = ajv.compile(content[media!]!.schema)
    const ok = validate(parsed)
    expect(ok, `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${text}`).toBe(
      true,
    )
  }
  checked.add(`${method} ${template} ${status[0]}xx`)
  return { status: res.status, body: parsed, headers: res.headers }
}

describe('GET /v1/openapi.json', () => {
  it('needs the token like the rest of /v1', async () => {
    expect((await fetch(`${d.url}/v1/openapi.json`)).status).toBe(401)
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0')
    const result = await new Validator().validate(doc as never)
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('names every route fastify registered, each with a declared answer and error', () => {
    const routes = registered.filter((r) => r.method !== 'HEAD' && !r.url.includes('*'))
    expect(routes.length).toBeGreaterThan(60)
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}')
      const op = doc.paths[path]?.[r.method.toLowerCase()]
      expect(op, `${r.method} ${r.url} in the document`).toBeDefined()
      const codes = Object.keys(op!.responses)
      expect(
        codes.some((c) => c.startsWith('2')),
        `${r.method} ${r.url} declares its answer`,
      ).toBe(true)
      if (r.url.startsWith('/v1/')) expect(codes).toEqual(expect.arrayContaining(['4XX', '5XX']))
    }
    // And nothing in it that fastify does not route.
    const known = new Set(routes.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`))
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops))
        expect(known).toContain(`${method.toUpperCase()} ${path}`)
    }
    // The public routes say so.
    expect(doc.paths['/v1/ping']!.get!.security).toEqual([])
    expect(doc.paths['/v1/status']!.get!.security).toBeUndefined()
  })
})

describe('real answers match the declared schemas', () => {
  it('of resources, tasks, archives, trees, vaults and errors', async () => {
    const src = join(base, 'src')
    mkdirSync(join(src, 'docs'), { recursive: true })
    writeFileSync(join(src, 'docs', 'a.md'), '# a\n')
    writeFileSync(join(src, 'b.txt'), 'b\n')

    expect((await call('GET', '/v1/ping')).body.ok).toBe('pong')
    await call('GET', '/v1/status')
    await call('GET', '/v1/health')
    const plugins = (await call('GET', '/v1/plugins')).body
    expect(plugins.length).toBeGreaterThan(3)
    await call('GET', '/v1/plugin/files')
    await call('GET', '/v1/plugin/nope')
    await call('GET', '/v1/channel-kinds')
    await call('GET', '/v1/channels')
    await call('GET', '/v1/agents')
    await call('POST', '/v1/auth/link')

    const store = (
      await call('POST', '/v1/stores', {
        name: 'local',
        plugin: 'fs',
        endpoint: { path: join(base, 'store') },
      })
    ).body.uuid
    const target = (
      await call('POST', '/v1/targets', { name: 'home', plugin: 'files', endpoint: { path: src } })
    ).body.uuid
    const schedule = (await call('POST', '/v1/schedules', { name: 'nightly', when: 'daily 4am' }))
      .body.uuid
    const retention = (await call('POST', '/v1/retention', { name: 'week', expires: 7 * 86400 }))
      .body.uuid
    const job = (
      await call('POST', '/v1/jobs', { name: 'home', target, store, schedule, retention })
    ).body.uuid
    for (const kind of ['target', 'store', 'schedule', 'retention', 'job'] as const) {
      const plural = kind === 'retention' ? 'retention' : `${kind}s`
      await call('GET', `/v1/${plural}`)
    }
    await call('GET', `/v1/target/${target}`)
    await call('GET', `/v1/store/${store}`)
    await call('GET', `/v1/schedule/${schedule}`)
    await call('GET', `/v1/retention/${retention}`)
    await call('GET', `/v1/job/${job}`)
    await call('PUT', `/v1/schedule/${schedule}`, {
      name: 'nightly',
      when: 'daily 3am',
      summary: '',
    })
    await call('POST', '/v1/schedules/preview', { when: 'every 4 hours', count: 2 })
    await call('POST', `/v1/target/${target}/test`)
    await call('POST', '/v1/targets/test', { plugin: 'files', endpoint: { path: src } })

    // Structured details: an invalid schedule's examples, a delete in use's jobs.
    const bad = await call('POST', '/v1/schedules/preview', { when: 'dayly at 3am' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('when')
    expect(bad.body.error.details.examples).toContain('daily at 4am')
    expect(bad.body.error.message).toContain(bad.body.error.details.problem)
    const inUse = await call('DELETE', `/v1/store/${store}`)
    expect(inUse.status).toBe(409)
    expect(inUse.body.error.details.jobs).toEqual([{ uuid: job, name: 'home' }])
    expect((await call('GET', '/v1/job/not-a-uuid')).status).toBe(400)

    await call('POST', `/v1/job/${job}/pause`)
    await call('POST', `/v1/job/${job}/unpause`)
    const first = (await call('POST', `/v1/job/${job}/run`)).body.task_uuid
    expect((await d.settled(first)).status).toBe('done')
    writeFileSync(join(src, 'c.txt'), 'c\n')
    const second = (await call('POST', `/v1/job/${job}/run`)).body.task_uuid
    expect((await d.settled(second)).status).toBe('done')
    await call('GET', '/v1/tasks')
    await call('GET', `/v1/task/${first}`)
    expect((await call('DELETE', `/v1/task/${first}`)).status).toBe(409)

    const archives = (await call('GET', '/v1/archives')).body
    expect(archives).toHaveLength(2)
    const [newer, older] = archives.map((a: { uuid: string }) => a.uuid)
    await call('GET', `/v1/archive/${newer}`)
    await call('PUT', `/v1/archive/${newer}`, { notes: 'checked' })
    await call('GET', `/v1/archive/${newer}/tree`)
    await call('GET', `/v1/archive/${newer}/find?pattern=*.md`)
    await call('GET', `/v1/archive/${newer}/diff?against=${older}`)
    await call('POST', `/v1/archive/${newer}/download-link`)
    const download = await call('GET', `/v1/archive/${newer}/download?path=b.txt`)
    expect(download.body).toBe('b\n')
    const verify = (await call('POST', `/v1/archive/${newer}/verify`)).body.task_uuid
    await d.settled(verify)

    await call('GET', `/v1/store/${store}/vault`)
    await call('GET', `/v1/store/${store}/locks`)
    const kit = await call('GET', `/v1/store/${store}/vault/recovery-kit`)
    expect(kit.body.length).toBeGreaterThan(20)

    const agent = await call('POST', '/v1/agents', { name: 'db-host' })
    await call('GET', '/v1/agent/db-host')
    await call('POST', '/v1/agent/db-host/token')
    await call('DELETE', `/v1/agent/${agent.body.uuid}`)

    const purge = await call('DELETE', `/v1/archive/${older}`)
    if (purge.body.task_uuid) await d.settled(purge.body.task_uuid)
    await call('DELETE', `/v1/job/${job}`)
    await call('DELETE', `/v1/retention/${retention}`)
    await call('GET', `/v1/openapi.json`)
    await call('GET', '/v1/meta/pubkey')

    // Enough of the document was held against real answers to trust the rest.
    expect(checked.size).toBeGreaterThan(50)
  })
})
