// Paging of GET /v1/archives and /v1/tasks, and of the named lists (targets,
// stores, schedules, retention, jobs, channels, agents): limit + cursor, the
// body still the array, X-Total-Count, X-Next-Cursor and Link headers; pages walked to the
// end give the whole list in order, once each, even when rows are added
// between pages; a cursor that is not one the list gave is a 400 naming it.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BulwarkClient } from '../../src-daemon/client'
import { tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

let d: InProcessDaemon
let job: string
const base = tempDir()
const src = join(base, 'src')

async function get(path: string) {
  const res = await fetch(d.url + path, { headers: { authorization: `Bearer ${d.token}` } })
  return { status: res.status, body: (await res.json()) as any, headers: res.headers }
}

async function backup(n: number) {
  writeFileSync(join(src, `f${n}.txt`), `file ${n}\n`)
  const run = await d.api('POST', `/v1/job/${job}/run`)
  expect((await d.settled(run.body.task_uuid)).status).toBe('done')
}

/** Follows Link headers from `first` to the end; the pages' uuids. */
async function walk(first: string): Promise<string[][]> {
  const pages: string[][] = []
  let next: string | null = first
  while (next) {
    const page = await get(next)
    expect(page.status).toBe(200)
    pages.push(page.body.map((x: { uuid: string }) => x.uuid))
    const link = page.headers.get('link')
    const cursor = page.headers.get('x-next-cursor')
    if (cursor === null) {
      expect(link).toBeNull()
      next = null
    } else {
      expect(link).toMatch(/^<\/v1\/\w+\?[^>]+>; rel="next"$/)
      next = /^<([^>]+)>/.exec(link!)![1]!
      expect(new URL(next, d.url).searchParams.get('cursor')).toBe(cursor)
    }
  }
  return pages
}

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock: new TestClock() })
  mkdirSync(src, { recursive: true })
  const made = async (path: string, body: unknown) => (await d.api('POST', path, body)).body.uuid
  job = await made('/v1/jobs', {
    name: 'home',
    target: await made('/v1/targets', { name: 'home', plugin: 'files', endpoint: { path: src } }),
    store: await made('/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: join(base, 'store') },
    }),
    schedule: await made('/v1/schedules', { name: 'nightly', when: 'daily 4am' }),
    retention: await made('/v1/retention', { name: 'week', expires: 7 * 86400 }),
  })
  for (let n = 0; n < 5; n++) await backup(n)
})
afterAll(() => d?.close())

describe('paging', () => {
  it('archives: pages of limit, the total, the next page by Link, the whole list in order', async () => {
    const all = await get('/v1/archives')
    expect(all.body).toHaveLength(5)
    expect(all.headers.get('x-total-count')).toBe('5')
    // No limit: today's full answer, with no next page.
    expect(all.headers.get('x-next-cursor')).toBeNull()

    const first = await get('/v1/archives?limit=2')
    expect(first.body).toHaveLength(2)
    expect(first.headers.get('x-total-count')).toBe('5')
    const pages = await walk('/v1/archives?limit=2')
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
    expect(pages.flat()).toEqual(all.body.map((a: { uuid: string }) => a.uuid))

    // The total follows the filters; a filtered list pages the same way.
    const none = await get('/v1/archives?limit=2&status=expired')
    expect(none.body).toEqual([])
    expect(none.headers.get('x-total-count')).toBe('0')
  })

  it('archives: a backup made between pages neither repeats a row nor hides one (a key, not an offset)', async () => {
    const before = (await get('/v1/archives')).body.map((a: { uuid: string }) => a.uuid)
    const first = await get('/v1/archives?limit=2')
    await backup(9)
    const rest = await walk(`/v1/archives?limit=2&cursor=${first.headers.get('x-next-cursor')}`)
    expect([...first.body.map((a: { uuid: string }) => a.uuid), ...rest.flat()]).toEqual(before)
  })

  it('tasks: the same headers and walk; without a limit, the list as before', async () => {
    const all = await get('/v1/tasks?status=all&type=backup')
    expect(all.body.length).toBeGreaterThanOrEqual(5)
    expect(all.headers.get('x-total-count')).toBe(String(all.body.length))
    const pages = await walk('/v1/tasks?status=all&type=backup&limit=2')
    expect(pages.flat()).toEqual(all.body.map((t: { uuid: string }) => t.uuid))
    expect(pages.every((p) => p.length <= 2)).toBe(true)
  })

  it('the OpenAPI document gives the paged lists their headers', async () => {
    const doc = (await get('/v1/openapi.json')).body
    for (const path of ['/v1/archives', '/v1/tasks']) {
      const op = doc.paths[path].get
      expect(Object.keys(op.responses['200'].headers)).toEqual([
        'X-Total-Count',
        'X-Next-Cursor',
        'Link',
      ])
      expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['limit', 'cursor']),
      )
    }
  })

  it('named lists page by name; one removed between pages does not shift the rest', async () => {
    const made = async (name: string) =>
      (await d.api('POST', '/v1/schedules', { name, when: 'daily 5am' })).body.uuid as string
    const extra = [await made('b-extra'), await made('C-extra'), await made('a-extra')]
    const all = await get('/v1/schedules')
    const names = all.body.map((x: { name: string }) => x.name)
    expect(all.headers.get('x-total-count')).toBe(String(names.length))
    expect(names.slice(0, 3)).toEqual(['a-extra', 'b-extra', 'C-extra'])
    const first = await get('/v1/schedules?limit=2')
    expect(first.headers.get('x-total-count')).toBe(String(names.length))
    // The first page's last row goes away; the next page still starts after it.
    expect((await d.api('DELETE', `/v1/schedule/${extra[0]}`)).status).toBe(200)
    const rest = await walk(`/v1/schedules?limit=2&cursor=${first.headers.get('x-next-cursor')}`)
    expect(rest.flat()).toEqual(all.body.slice(2).map((x: { uuid: string }) => x.uuid))
    for (const list of ['targets', 'stores', 'retention', 'jobs', 'channels', 'agents']) {
      const page = await get(`/v1/${list}?limit=1`)
      expect(page.status, list).toBe(200)
      expect(Number(page.headers.get('x-total-count')), list).toBeGreaterThanOrEqual(
        page.body.length,
      )
    }
    const wrong = await get(`/v1/stores?cursor=${first.headers.get('x-next-cursor')}`)
    expect(wrong.status).toBe(400)
    expect(wrong.body.error.field).toBe('cursor')
  })

  it('refuses a cursor it did not give, naming cursor', async () => {
    for (const path of [
      '/v1/archives?cursor=nonsense',
      `/v1/archives?cursor=${(await get('/v1/tasks?limit=1')).headers.get('x-next-cursor')}`,
      '/v1/tasks?cursor=' + Buffer.from('["tasks","x",1]').toString('base64url'),
    ]) {
      const res = await get(path)
      expect(res.status, path).toBe(400)
      expect(res.body.error.field).toBe('cursor')
      expect(res.body.error.message).toContain('X-Next-Cursor')
    }
  })

  it('the client reads pages and follows them to the end', async () => {
    const client = new BulwarkClient({ url: d.url, token: d.token })
    const page = await client.listArchivesPage({ limit: 2 })
    expect(page.items).toHaveLength(2)
    expect(page.total).toBe((await client.listArchives()).length)
    expect(page.next).not.toBeNull()
    const all: string[] = []
    for await (const a of client.eachArchive({ limit: 2 })) all.push(a.uuid)
    expect(all).toEqual((await client.listArchives()).map((a) => a.uuid))
    const tasks: string[] = []
    for await (const t of client.eachTask({ status: 'all', limit: 3 })) tasks.push(t.uuid)
    expect(tasks).toEqual((await client.listTasks({ status: 'all' })).map((t) => t.uuid))
  })
})
