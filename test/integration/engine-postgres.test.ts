// The engine end to end: the real daemon backs up a real PostgreSQL database
// into a real directory, restores it into the same and another database, and
// every way a backup can fail ends in a clear failed task with no archive.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { openBlob } from '../../src-daemon/vault/blob'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import {
  createDb,
  dropDb,
  holdTableLock,
  postgresAvailable,
  psql,
  randomDbName,
} from '../helpers/services'
import { runTask, waitForTask } from '../helpers/tasks'
import { waitFor } from '../helpers/wait'

const pg = postgresAvailable()
const dbs: string[] = []
let d: RunningDaemon
let storeDir: string
let store: string
let schedule: string
let retention: string

const newDb = () => {
  const name = randomDbName()
  createDb(name)
  dbs.push(name)
  return name
}

function seed(db: string) {
  psql(
    db,
    `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, photo bytea, joined date);
     CREATE INDEX customers_name ON customers (name);
     INSERT INTO customers (name, photo, joined)
       SELECT 'customer ' || g, decode(md5(g::text), 'hex'), date '2020-01-01' + g FROM generate_series(1, 500) g;
     CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric(10,2));
     INSERT INTO orders (customer, total) SELECT 1 + g % 500, g * 1.25 FROM generate_series(1, 2000) g;
     CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000;`,
  )
}

const snapshot = (db: string) =>
  [
    psql(db, "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c"),
    psql(db, "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o"),
    psql(db, 'SELECT count(*) FROM big_orders'),
    psql(db, 'SELECT last_value FROM customers_id_seq'),
  ].join('|')

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

async function pgTarget(database: string, extra: Record<string, unknown> = {}) {
  return created('/v1/targets', {
    name: `pg ${database}`,
    plugin: 'postgres',
    endpoint: { database, ...extra },
  })
}

async function jobFor(target: string, storeUuid = store) {
  return created('/v1/jobs', {
    name: `job ${target}`,
    target,
    store: storeUuid,
    schedule,
    retention,
  })
}

async function backup(job: string) {
  const run = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
  return waitForTask(d, run.body.task_uuid)
}

const archivesOf = async (job: string) =>
  (await d.api('GET', '/v1/archives')).body.filter((a: any) => a.job_uuid === job)
const storeFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : []

describe.skipIf(!pg)('backing up and restoring PostgreSQL', () => {
  beforeAll(async () => {
    d = await startDaemon()
    storeDir = join(tempDir(), 'store')
    store = await created('/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: storeDir },
    })
    schedule = await created('/v1/schedules', { name: 'nightly', when: 'daily at 4am' })
    retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  })
  afterAll(async () => {
    await d?.stop()
    for (const db of dbs) dropDb(db)
  })

  it('backs up, then restores into the same database and into a new one', async () => {
    const db = newDb()
    seed(db)
    const before = snapshot(db)
    const target = await pgTarget(db)
    const job = await jobFor(target)
    const task = await backup(job)
    expect(task.status, task.log).toBe('done')
    expect(task.bytes).toBeGreaterThan(10_000)
    expect(task.log).toMatch(/archive .* stored as/)

    const [archive] = await archivesOf(job)
    expect(archive).toMatchObject({
      status: 'valid',
      target_uuid: target,
      store_uuid: store,
      size: task.bytes,
      target_plugin: 'postgres',
    })
    expect(Date.parse(archive.expires_at) - Date.parse(archive.taken_at)).toBe(7 * 86400 * 1000)
    expect((await d.api('GET', `/v1/task/${task.uuid}`)).body.archive_uuid).toBe(archive.uuid)
    expect((await d.api('GET', `/v1/job/${job}`)).body.last_status).toBe('done')

    // Damage the data, then restore over it.
    psql(
      db,
      "DELETE FROM orders WHERE id % 3 = 0; UPDATE customers SET name = 'x'; DROP VIEW big_orders",
    )
    expect(snapshot.bind(null, db)).toThrow()
    const restore = await d.api('POST', `/v1/archive/${archive.uuid}/restore`, {})
    const done = await waitForTask(d, restore.body.task_uuid)
    expect(done.status, done.log).toBe('done')
    expect(done.progress).toBe(1)
    expect(snapshot(db)).toBe(before)

    // And into a different, new database.
    const copy = newDb()
    const other = await pgTarget(copy)
    const toOther = await d.api('POST', `/v1/archive/${archive.uuid}/restore`, { target: other })
    expect((await waitForTask(d, toOther.body.task_uuid)).status).toBe('done')
    expect(snapshot(copy)).toBe(before)
  })

  it('checks connections in words a person can act on', async () => {
    const db = newDb()
    const good = await d.api('POST', `/v1/target/${await pgTarget(db)}/test`)
    expect(good.body).toMatchObject({ ok: true })
    expect(good.body.message).toMatch(/PostgreSQL 15/)
    const bad = await d.api('POST', `/v1/target/${await pgTarget(db, { port: 1 })}/test`)
    expect(bad.body.ok).toBe(false)
    expect(bad.body.message).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:1/)
    const fs = await d.api('POST', `/v1/store/${store}/test`)
    expect(fs.body.ok, fs.body.message).toBe(true)
  })

  it.each([
    ['an unreachable host', { port: 1 }, /cannot reach PostgreSQL at 127\.0\.0\.1:1/],
    [
      'a role that does not exist',
      { user: 'no_such_role_xyz', password: 'Hunter2-secret' },
      /no_such_role_xyz/,
    ],
    [
      'a database that does not exist',
      { database: 'no_such_db_xyz' },
      /database .*no_such_db_xyz.* does not exist/,
    ],
  ])('fails clearly on %s, leaving no archive', async (_what, endpoint, message) => {
    const db = newDb()
    const target = await pgTarget(db, endpoint)
    const job = await jobFor(target)
    const task = await backup(job)
    expect(task.status).toBe('failed')
    expect(task.error).toMatch(message)
    expect(task.log).toMatch(/backup failed/)
    expect(task.log + task.error).not.toContain('Hunter2-secret')
    expect(await archivesOf(job)).toEqual([])
  })

  it('fails clearly when the store directory cannot be written', async () => {
    const db = newDb()
    seed(db)
    const blocker = join(tempDir(), 'a-file')
    writeFileSync(blocker, 'not a directory')
    const badStore = await created('/v1/stores', {
      name: 'blocked',
      plugin: 'fs',
      endpoint: { path: join(blocker, 'sub') },
    })
    const job = await jobFor(await pgTarget(db), badStore)
    const task = await backup(job)
    expect(task.status).toBe('failed')
    expect(task.error).toMatch(/a-file/)
    expect(await archivesOf(job)).toEqual([])
  })

  it('cancels a running backup: the dump stops and nothing is kept', async () => {
    const db = newDb()
    seed(db)
    const lock = holdTableLock(db, 'orders')
    try {
      await lockHeld(db, 'orders')
      const job = await jobFor(await pgTarget(db))
      const run = await d.api('POST', `/v1/job/${job}/run`)
      const uuid = run.body.task_uuid
      await waitForTask(d, uuid, (s) => s === 'running')
      await waitFor('pg_dump to run', () => (pgDumpsOf(db).length > 0 ? true : undefined))
      expect((await d.api('DELETE', `/v1/task/${uuid}`)).body).toEqual({ ok: 'stopping' })
      const task = await waitForTask(d, uuid)
      expect(task.status).toBe('canceled')
      expect(task.log).toMatch(/canceled/)
      expect(await archivesOf(job)).toEqual([])
      expect(storeFiles(storeDir).filter((f) => f.includes(uuid))).toEqual([])
      await waitFor('pg_dump to be gone', () => (pgDumpsOf(db).length === 0 ? true : undefined))
    } finally {
      lock.kill()
    }
  })

  it('fails, at the next start, a backup the daemon died in the middle of', async () => {
    const dataDir = tempDir()
    const own = await startDaemon({ dataDir })
    const db = newDb()
    seed(db)
    const lock = holdTableLock(db, 'orders')
    try {
      const post = async (path: string, body: unknown) =>
        (await own.api('POST', path, body)).body.uuid as string
      const ownStore = await post('/v1/stores', {
        name: 's',
        plugin: 'fs',
        endpoint: { path: join(dataDir, 'store') },
      })
      const target = await post('/v1/targets', {
        name: 't',
        plugin: 'postgres',
        endpoint: { database: db },
      })
      const job = await post('/v1/jobs', {
        name: 'j',
        target,
        store: ownStore,
        schedule: await post('/v1/schedules', { name: 's', when: 'daily 4am' }),
        retention: await post('/v1/retention', { name: 'r', expires: 3600 }),
      })
      const uuid = (await own.api('POST', `/v1/job/${job}/run`)).body.task_uuid
      await waitForTask(own, uuid, (s) => s === 'running')
      own.child.kill('SIGKILL')
      await new Promise((r) => own.child.once('exit', r))
      const again = await startDaemon({ dataDir })
      const task = (await again.api('GET', `/v1/task/${uuid}`)).body
      expect(task.status).toBe('failed')
      expect(task.error).toMatch(/daemon stopped/)
      expect((await again.api('GET', '/v1/archives')).body).toEqual([])
      await again.stop()
    } finally {
      lock.kill()
      for (const pid of pgDumpsOf(db)) process.kill(Number(pid), 'SIGKILL')
    }
  })

  it('purges a deleted archive from the store', async () => {
    const db = newDb()
    seed(db)
    const job = await jobFor(await pgTarget(db))
    expect((await backup(job)).status).toBe('done')
    const [archive] = await archivesOf(job)
    const file = join(storeDir, archive.store_key)
    expect(existsSync(file)).toBe(true)
    const del = await d.api('DELETE', `/v1/archive/${archive.uuid}`)
    const purge = await waitForTask(d, del.body.task_uuid)
    expect(purge.status, purge.log).toBe('done')
    expect(existsSync(file)).toBe(false)
    expect((await d.api('GET', `/v1/archive/${archive.uuid}`)).body.status).toBe('purged')
    const restore = await d.api('POST', `/v1/archive/${archive.uuid}/restore`, {})
    expect(restore.status).toBe(409)
  })
})

describe('backing up and restoring a directory', () => {
  it('round-trips a tree into a new directory and refuses a non-empty one', async () => {
    const own = await startDaemon()
    try {
      const src = join(tempDir(), 'src')
      mkdirSync(join(src, 'nested', 'deep'), { recursive: true })
      writeFileSync(join(src, 'nested', 'deep', 'a.txt'), 'hello')
      writeFileSync(join(src, 'script.sh'), '#!/bin/sh\n')
      chmodSync(join(src, 'script.sh'), 0o755)
      const post = async (path: string, body: unknown) =>
        (await own.api('POST', path, body)).body.uuid as string
      const job = await post('/v1/jobs', {
        name: 'dir',
        target: await post('/v1/targets', {
          name: 'src',
          plugin: 'files',
          endpoint: { path: src },
        }),
        store: await post('/v1/stores', {
          name: 's',
          plugin: 'fs',
          endpoint: { path: join(tempDir(), 'st') },
        }),
        schedule: await post('/v1/schedules', { name: 's', when: 'hourly' }),
        retention: await post('/v1/retention', { name: 'r', expires: 3600 }),
      })
      const backupTask = await runTask(own, `/v1/job/${job}/run`)
      expect(backupTask.status, backupTask.log).toBe('done')
      const [archive] = (await own.api('GET', `/v1/archives?job=${job}`)).body
      const dest = join(tempDir(), 'restored')
      const destTarget = await post('/v1/targets', {
        name: 'dest',
        plugin: 'files',
        endpoint: { path: dest },
      })
      const restore = await runTask(own, `/v1/archive/${archive.uuid}/restore`, {
        target: destTarget,
      })
      expect(restore.status, restore.log).toBe('done')
      expect(execFileSync('diff', ['-r', src, dest], { encoding: 'utf8' })).toBe('')
      // Restoring again over the same files is refused, loudly, naming them (a tree archive's
      // default conflict rule).
      const again = await runTask(own, `/v1/archive/${archive.uuid}/restore`, {
        target: destTarget,
      })
      expect(again.status).toBe('failed')
      expect(again.error).toMatch(
        /refused before writing anything: \d+ path\(s\) already exist there/,
      )
      expect(again.log).toMatch(/RESTORE FAILED/)
    } finally {
      await own.stop()
    }
  })
})

/** Once the session holdTableLock started holds its lock on `table`. */
const lockHeld = (db: string, table: string) =>
  waitFor(`the lock on ${table}`, () =>
    psql(
      db,
      `select count(*) from pg_locks where relation = '${table}'::regclass
        and mode = 'AccessExclusiveLock' and granted`,
    ) !== '0'
      ? true
      : undefined,
  )

function pgDumpsOf(db: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `pg_dump.*${db}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
  } catch {
    return []
  }
}

describe('external plugins (the SHIELD plugin calling protocol)', () => {
  it('are discovered at start and back up and restore through the engine', async () => {
    const own = await startDaemon()
    try {
      const plugins = (await own.api('GET', '/v1/plugins')).body
      expect(plugins).toContainEqual(
        expect.objectContaining({ name: 'dirstore', kind: 'store', source: 'external' }),
      )
      const src = join(tempDir(), 'src')
      mkdirSync(join(src, 'sub'), { recursive: true })
      writeFileSync(join(src, 'sub', 'data.bin'), Buffer.alloc(300_000, 7))
      const blobs = join(tempDir(), 'blobs')
      const post = async (path: string, body: unknown) => {
        const res = await own.api('POST', path, body)
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        return res.body.uuid as string
      }
      const job = await post('/v1/jobs', {
        name: 'ext',
        target: await post('/v1/targets', {
          name: 'src',
          plugin: 'files',
          endpoint: { path: src },
        }),
        store: await post('/v1/stores', {
          name: 'ext',
          plugin: 'dirstore',
          endpoint: { path: blobs },
        }),
        schedule: await post('/v1/schedules', { name: 's', when: 'hourly' }),
        retention: await post('/v1/retention', { name: 'r', expires: 3600 }),
      })
      const backupTask = await runTask(own, `/v1/job/${job}/run`)
      expect(backupTask.status, backupTask.log).toBe('done')
      const [archive] = (await own.api('GET', `/v1/archives?job=${job}`)).body
      expect(archive.format).toBe('blob')
      expect(storeFiles(blobs).length).toBe(1)
      // Compressed and encrypted: neither the file name nor a run of the data shows.
      const stored = readdirSync(blobs, { recursive: true, withFileTypes: true }).find((e) =>
        e.isFile(),
      )!
      const bytes = readFileSync(join(stored.parentPath, stored.name))
      expect(bytes.length).toBeLessThan(300_000)
      expect(bytes.includes(Buffer.alloc(64, 7))).toBe(false)
      expect(bytes.includes(Buffer.from('data.bin'))).toBe(false)
      // The recovery kit of an external store is its vault password, and it opens the blob alone.
      const kitRes = await fetch(`${own.url}/v1/store/${archive.store_uuid}/vault/recovery-kit`, {
        headers: { authorization: `Bearer ${own.token}` },
      })
      const password = /Vault password: (\S+)/.exec(await kitRes.text())?.[1]
      expect(password).toBeTruthy()
      const tar = await collect(openBlob(Readable.from([bytes]), password!, archive.uuid))
      expect(tar.includes(Buffer.from('data.bin'))).toBe(true)
      const dest = join(tempDir(), 'restored')
      const destTarget = await post('/v1/targets', {
        name: 'dest',
        plugin: 'files',
        endpoint: { path: dest },
      })
      const restore = await runTask(own, `/v1/archive/${archive.uuid}/restore`, {
        target: destTarget,
      })
      expect(restore.status, restore.log).toBe('done')
      expect(execFileSync('diff', ['-r', src, dest], { encoding: 'utf8' })).toBe('')
    } finally {
      await own.stop()
    }
  })
})

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
