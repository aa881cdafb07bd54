// GET /v1/tasks?type=… and `bulwark list tasks --type`: tasks of one type,
// alone or with the status, job and limit filters, and a bad type refused.
import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '../../src-daemon/contract'
import { runCli, startDaemon, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
let job: string
const archive = randomUUID()
/** The tasks by name, as put into the catalog (oldest first). */
const t: Record<string, string> = {}

beforeAll(async () => {
  // No workers: every task keeps the status it is given here.
  d = await startDaemon({ env: { BULWARK_WORKERS: '0' } })
  const post = async (path: string, body: unknown) =>
    (await d.api('POST', path, body)).body.uuid as string
  const target = await post('/v1/targets', {
    name: 'pg',
    plugin: 'postgres',
    endpoint: { database: 'a' },
  })
  const store = await post('/v1/stores', {
    name: 'disk',
    plugin: 'fs',
    endpoint: { path: '/tmp/x' },
  })
  const schedule = await post('/v1/schedules', { name: 'nightly', when: '15 3 * * *' })
  const retention = await post('/v1/retention', { name: 'week', expires: 7 * 86400 })
  job = await post('/v1/jobs', {
    name: 'pg-nightly',
    target,
    store,
    schedule,
    retention,
    paused: true,
  })
  expect(job).toMatch(/^[0-9a-f-]{36}$/)

  // Tasks are made by the queue; here they are put straight into the catalog.
  const db = new Database(join(d.dataDir, 'catalog.db'))
  const insert = db.prepare(
    `INSERT INTO tasks (uuid, owner, op, job_uuid, archive_uuid, store_uuid, status, requested_at)
     VALUES (?, 'system', ?, ?, ?, ?, ?, ?)`,
  )
  const rows: [string, string, string | null, string][] = [
    ['backup1', 'backup', job, 'done'],
    ['backup2', 'backup', job, 'failed'],
    ['verify1', 'verify', null, 'done'],
    ['purge1', 'purge', null, 'done'],
    ['restore1', 'restore', null, 'pending'],
    ['gc1', 'gc', null, 'running'],
    ['verify2', 'verify', null, 'pending'],
    ['backup3', 'backup', job, 'pending'],
  ]
  const start = Date.parse('2026-03-01T04:00:00Z')
  rows.forEach(([name, op, jobUuid, status], i) => {
    t[name] = randomUUID()
    const onArchive = op === 'backup' ? null : archive
    insert.run(t[name], op, jobUuid, onArchive, store, status, start + i * 60_000)
  })
  db.close()
})
afterAll(async () => {
  await d.stop()
})

const uuids = async (query: string) => {
  const res = await d.api('GET', `/v1/tasks${query}`)
  expect(res.status, query).toBe(200)
  return (res.body as Task[]).map((x) => x.uuid)
}

describe('GET /v1/tasks?type=', () => {
  it('lists the tasks of one type, newest first', async () => {
    expect(await uuids('?type=backup')).toEqual([t.backup3, t.backup2, t.backup1])
    expect(await uuids('?type=verify')).toEqual([t.verify2, t.verify1])
    expect(await uuids('?type=restore')).toEqual([t.restore1])
    expect(await uuids('?type=purge')).toEqual([t.purge1])
    expect(await uuids('?type=gc')).toEqual([t.gc1])
    expect(await uuids('')).toHaveLength(8)
    const backups = (await d.api('GET', '/v1/tasks?type=backup')).body as Task[]
    expect(backups.every((x) => x.type === 'backup')).toBe(true)
  })

  it('combines with the status, job, archive and limit filters', async () => {
    expect(await uuids('?type=backup&status=done')).toEqual([t.backup1])
    expect(await uuids('?type=backup&status=active')).toEqual([t.backup3])
    expect(await uuids('?type=verify&status=all')).toEqual([t.verify2, t.verify1])
    expect(await uuids('?type=verify&status=active')).toEqual([t.verify2])
    expect(await uuids('?type=gc&status=done')).toEqual([])
    expect(await uuids(`?type=backup&job=${job}&limit=2`)).toEqual([t.backup3, t.backup2])
    expect(await uuids(`?type=verify&job=${job}`)).toEqual([])
    expect(await uuids(`?type=purge&archive=${archive}`)).toEqual([t.purge1])
  })

  it('limits after filtering: other types do not use up the window', async () => {
    // The newest finished task is a purge; the newest finished backup is further back.
    expect(await uuids('?status=done&limit=1')).toEqual([t.purge1])
    expect(await uuids('?status=done&type=backup&limit=1')).toEqual([t.backup1])
  })

  it('refuses an unknown type with 400 naming the field', async () => {
    for (const bad of ['bogus', 'BACKUP', 'backups', '']) {
      const res = await d.api('GET', `/v1/tasks?type=${bad}`)
      expect(res.status, bad).toBe(400)
      expect(res.body.error).toMatchObject({ code: 'validation', field: 'type' })
      expect(res.body.error.message).toContain(
        'query parameter type must be one of backup, restore, purge, verify, gc',
      )
    }
  })
})

describe('bulwark list tasks --type', () => {
  const cli = (...args: string[]) => runCli(args, { dataDir: d.dataDir })
  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args)
    expect(r.stderr, `bulwark ${args.join(' ')}`).toBe('')
    expect(r.code, `bulwark ${args.join(' ')}`).toBe(0)
    return r.stdout
  }
  const json = async (...args: string[]) =>
    (JSON.parse(await ok(...args, '--json')) as Task[]).map((x) => x.uuid)

  it('passes the type to the daemon, with the other filters', async () => {
    expect(await json('list', 'tasks', '--all', '--type', 'backup')).toEqual([
      t.backup3,
      t.backup2,
      t.backup1,
    ])
    // Active by default, as without --type.
    expect(await json('list', 'tasks', '--type', 'verify')).toEqual([t.verify2])
    expect(await json('list', 'tasks', '--status', 'done', '--type', 'verify')).toEqual([t.verify1])
    expect(
      await json(
        'list',
        'tasks',
        '--all',
        '--type',
        'backup',
        '--job',
        'pg-nightly',
        '--limit',
        '2',
      ),
    ).toEqual([t.backup3, t.backup2])
  })

  it('prints a table, or says which tasks there are none of', async () => {
    const table = await ok('list', 'tasks', '--all', '--type', 'backup')
    const lines = table.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^UUID\s+TYPE\s+STATUS/)
    expect(lines).toHaveLength(4)
    for (const line of lines.slice(1)) expect(line).toMatch(/\bbackup\b.*\bpg-nightly\b/)
    expect(await ok('list', 'tasks', '--type', 'purge')).toBe(
      'no pending or running purge tasks (see all: --all)\n',
    )
    expect(await ok('list', 'tasks', '--status', 'failed', '--type', 'gc')).toBe(
      'no failed gc tasks\n',
    )
  })

  it('refuses an unknown type before asking the daemon', async () => {
    const r = await cli('list', 'tasks', '--type', 'bogus')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(
      '--type must be one of backup, restore, purge, verify, gc (got "bogus")',
    )
  })
})
