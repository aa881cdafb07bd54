// The typed client against a fake fetch: URLs, headers, bodies, error mapping, SSE.
import { describe, expect, it } from 'vitest'
import { ApiError, BulwarkClient, DaemonUnreachableError } from '../../src-daemon/client'

interface Call {
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
}

function fake(respond: (call: Call) => Response) {
  const calls: Call[] = []
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
    }
    calls.push(call)
    return respond(call)
  }) as typeof fetch
  return { calls, fetchImpl }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('BulwarkClient', () => {
  it('sends the token, JSON bodies and query filters', async () => {
    const { calls, fetchImpl } = fake(() => json(200, { ok: 'created', uuid: 'u' }))
    const c = new BulwarkClient({ url: 'http://h:1/v1/', token: 'tok', fetch: fetchImpl })
    await c.createStore({ name: 'n', plugin: 'fs', endpoint: { path: '/x' } })
    await c.listTargets({ unused: true, plugin: 'postgres' })
    await c.listJobs({ paused: false })
    await c.listTasks({ status: 'all', limit: 5 })
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'POST http://h:1/v1/stores',
      'GET http://h:1/v1/targets?unused=t&plugin=postgres',
      'GET http://h:1/v1/jobs?paused=f',
      'GET http://h:1/v1/tasks?status=all&limit=5',
    ])
    expect(calls[0]?.headers.authorization).toBe('Bearer tok')
    expect(calls[0]?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({
      name: 'n',
      plugin: 'fs',
      endpoint: { path: '/x' },
    })
    expect(calls[1]?.headers['content-type']).toBeUndefined()
  })

  it('turns error bodies into ApiError with code, field and details', async () => {
    const { fetchImpl } = fake(() =>
      json(409, {
        error: { code: 'conflict', message: 'in use', field: 'uuid', details: { jobs: [] } },
      }),
    )
    const c = new BulwarkClient({ url: 'http://h:1', fetch: fetchImpl })
    const err = await c.deleteStore('x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 409, code: 'conflict', message: 'in use', field: 'uuid' })
    expect((err as ApiError).details).toEqual({ jobs: [] })
  })

  it('copes with error bodies that are not the contract shape', async () => {
    const { fetchImpl } = fake(() => new Response('<html>bad gateway</html>', { status: 404 }))
    const err = await new BulwarkClient({ url: 'http://h:1', fetch: fetchImpl })
      .getJob('x')
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 404, code: 'not_found' })
  })

  it('reports network failures as DaemonUnreachableError', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })
    }) as typeof fetch
    const err = await new BulwarkClient({ url: 'http://h:1', fetch: fetchImpl })
      .ping()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DaemonUnreachableError)
    expect((err as DaemonUnreachableError).reason).toBe('ECONNREFUSED')
  })

  it('parses the event stream across chunk boundaries', async () => {
    const chunks = [
      ': hello\n\ndata: {"type":"heartbeat",',
      '"at":"t1"}\r\n\r\ndata: not json\n\n',
      'data: {"type":"resource","kind":"job","uuid":"u","action":"created"}\n\n',
    ]
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (const c of chunks) ctrl.enqueue(new TextEncoder().encode(c))
        ctrl.close()
      },
    })
    const { calls, fetchImpl } = fake(() => new Response(body, { status: 200 }))
    const c = new BulwarkClient({ url: 'http://h:1', fetch: fetchImpl })
    const events = []
    for await (const e of c.events(new AbortController().signal)) events.push(e)
    expect(calls[0]?.headers.accept).toBe('text/event-stream')
    expect(events).toEqual([
      { type: 'heartbeat', at: 't1' },
      { type: 'resource', kind: 'job', uuid: 'u', action: 'created' },
    ])
  })
})
