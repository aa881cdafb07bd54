// Restores that are exactly right, against the built daemon and the real
// servers: a MariaDB database restored under a new name keeps the source's
// default character set and collation (and so do its routines); a
// PostgreSQL restore into a new database creates it without an alarming
// "does not exist" in the task log, and a backup stuck behind a lock says on
// what and who holds it; a Redis key restored with absolute_ttl
// expires when the backed-up one did, not its TTL counted again; an SQLite
// restore creates the database's missing directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import {
  createDb,
  dropDb,
  mariadbAvailable,
  mysql,
  postgresAvailable,
  psql,
  randomDbName,
  redisAvailable,
} from '../helpers/services'
import { runTask, waitForTask } from '../helpers/tasks'
import { privateRedis, redis as redisClient } from '../fixtures/targets/redis'
import { waitFor } from '../helpers/wait'

const hasMariadb = mariadbAvailable()
const hasPostgres = postgresAvailable()
const hasRedis = redisAvailable()

let d: RunningDaemon
let store: string
let schedule: string
let retention: string

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

const target = (plugin: string, endpoint: Record<string, unknown>) =>
  created('/v1/targets', { name: `${plugin} ${randomDbName('t')}`, plugin, endpoint })

/** Backs the target up through a job of its own; the archive of that backup. */
async function backUp(targetUuid: string): Promise<{ task: any; archive: any }> {
  const job = await created('/v1/jobs', {
    name: `job ${randomDbName('j')}`,
    target: targetUuid,
    store,
    schedule,
    retention,
  })
  const task = await runTask(d, `/v1/job/${job}/run`, { owner: 'test' })
  expect(task.status, task.log).toBe('done')
  const archives = (await d.api('GET', `/v1/archives?job=${job}`)).body
  expect(archives).toHaveLength(1)
  return { task, archive: archives[0] }
}

/** Restores the archive into the target and waits for the task to end. */
const restore = (archive: any, into: string) =>
  runTask(d, `/v1/archive/${archive.uuid}/restore`, { target: into })

beforeAll(async () => {
  d = await startDaemon()
  store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(tempDir(), 'store') },
  })
  schedule = await created('/v1/schedules', { name: 'nightly', when: 'daily at 4am' })
  retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
})
afterAll(async () => {
  await d?.stop()
})

describe.skipIf(!hasMariadb)('MariaDB: a restore into a new database', () => {
  const dbs: string[] = []
  afterAll(() => {
    for (const db of dbs) mysql(`DROP DATABASE IF EXISTS \`${db}\``)
  })

  const defaults = (db: string) => {
    const create = mysql(`SHOW CREATE DATABASE \`${db}\``).split('\t')[1] ?? ''
    return {
      charset: /CHARACTER SET (\w+)/.exec(create)?.[1],
      collation: /COLLATE (\w+)/.exec(create)?.[1],
    }
  }
  const routineCollation = (db: string) =>
    mysql(
      `SELECT DATABASE_COLLATION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${db}' AND ROUTINE_NAME = 'greet'`,
    )

  it("keeps the source database's default character set and collation, for its routines too", async () => {
    const [src, copy] = [randomDbName('bw_cs'), randomDbName('bw_cs')]
    dbs.push(src, copy)
    // The server's default collation is another one, so losing it would show.
    expect(mysql('SELECT @@collation_server')).not.toBe('utf8mb4_unicode_ci')
    mysql(`CREATE DATABASE \`${src}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    mysql(
      "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50)); INSERT INTO people VALUES (1, 'Zoë'); " +
        "CREATE PROCEDURE greet() SELECT CONCAT('hello ', name) FROM people",
      src,
    )
    expect(routineCollation(src)).toBe('utf8mb4_unicode_ci')

    const { archive } = await backUp(await target('mysql', { database: src }))
    const done = await restore(archive, await target('mysql', { database: copy }))
    expect(done.status, done.log).toBe('done')
    expect(done.log).toContain(
      `created database ${copy} on 127.0.0.1:3306 with the backed-up database's default character set utf8mb4, collation utf8mb4_unicode_ci`,
    )

    expect(defaults(copy)).toEqual(defaults(src))
    expect(defaults(copy)).toEqual({ charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' })
    expect(routineCollation(copy)).toBe('utf8mb4_unicode_ci')
    expect(mysql('CALL greet()', copy)).toBe('hello Zoë')
  })
})

describe.skipIf(!hasPostgres)('PostgreSQL', () => {
  const dbs: string[] = []
  afterAll(() => {
    for (const db of dbs) dropDb(db)
  })
  const newDb = () => {
    const name = randomDbName()
    dbs.push(name)
    return name
  }

  it('creates a new database for a restore without logging that it "does not exist"', async () => {
    const src = newDb()
    createDb(src)
    psql(src, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')")
    const { archive } = await backUp(await target('postgres', { database: src }))
    const copy = newDb()
    const done = await restore(archive, await target('postgres', { database: copy }))
    expect(done.status, done.log).toBe('done')
    expect(done.log).not.toMatch(/does not exist/)
    expect(done.log).toContain(`created database ${copy} on 127.0.0.1:5432`)
    expect(psql(copy, 'SELECT v FROM t')).toBe('one')
  })

  it('says, while a backup waits for a lock, on which table and who holds it', async () => {
    const db = newDb()
    createDb(db)
    psql(db, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')")
    // A psql session that holds the lock until it is told to COMMIT on its stdin.
    const holder: ChildProcess = spawn(
      'psql',
      ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-Xq', '-v', 'ON_ERROR_STOP=1'],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    )
    try {
      holder.stdin!.write('BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n')
      const holderPid = await waitFor('the lock to be held', async () => {
        const pid = psql(
          db,
          "SELECT pid FROM pg_locks WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock' AND granted",
        )
        return pid || undefined
      })
      const job = await created('/v1/jobs', {
        name: `job ${db}`,
        target: await target('postgres', { database: db }),
        store,
        schedule,
        retention,
      })
      const uuid = (await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })).body.task_uuid
      const waiting = await waitFor('the task log to say what the backup waits for', async () => {
        const task = (await d.api('GET', `/v1/task/${uuid}`)).body
        return /pg_dump has sent nothing/.test(task.log ?? '') ? task : undefined
      })
      expect(waiting.status).toBe('running')
      expect(waiting.log).toMatch(
        new RegExp(
          `pg_dump has sent nothing for \\d+ s: it is waiting for a lock on table public\\.t \\(AccessShareLock\\), held by pid ${holderPid} \\(user postgres, application psql, .*holding AccessExclusiveLock\\)`,
        ),
      )
      holder.stdin!.end('COMMIT;\n')
      const done = await waitForTask(d, uuid)
      expect(done.status, done.log).toBe('done')
      expect(done.log).toMatch(/pg_dump is sending data again after \d+ s/)
    } finally {
      holder.kill()
    }
  })
})

describe.skipIf(!hasRedis)('Redis: absolute_ttl', () => {
  const PASSWORD = 'restore-fidelity-redis'
  let server: Awaited<ReturnType<typeof privateRedis>>
  beforeAll(async () => {
    server = await privateRedis(PASSWORD)
  })
  afterAll(() => server?.stop())

  const on = async <T>(db: number, fn: (c: ReturnType<typeof redisClient>) => Promise<T>) => {
    const c = redisClient(db, server.port, PASSWORD)
    try {
      return await fn(c)
    } finally {
      c.disconnect()
    }
  }
  const redisTarget = (db: number, more: Record<string, unknown> = {}) =>
    target('redis', { host: '127.0.0.1', port: server.port, password: PASSWORD, db, ...more })

  it('keeps the original expiry time with absolute_ttl; without it the TTL counts from the restore', async () => {
    const TTL = 8000
    await on(1, (c) => c.set('session', 'token', 'PX', TTL))
    const expiresAt = await on(1, (c) => c.pexpiretime('session'))
    const { archive } = await backUp(await redisTarget(1))
    // The TTL the backup saw, then time passes: at least 1.5 s, polled on the source key.
    const seen = expiresAt - Date.now()
    await waitFor('1.5 s to pass on the source key', async () => {
      const left = await on(1, (c) => c.pttl('session'))
      return left <= seen - 1500 ? left : undefined
    })

    const absolute = await restore(archive, await redisTarget(2, { absolute_ttl: true }))
    expect(absolute.status, absolute.log).toBe('done')
    expect(absolute.log).toMatch(/absolute_ttl: keys expire when they would have/)
    expect(absolute.log).toMatch(/restored 1 key,/)
    const relative = await restore(archive, await redisTarget(3))
    expect(relative.status, relative.log).toBe('done')

    // Exactly the source's expiry time, so less left than the backup saw; the
    // other counts the backup's TTL again from its restore.
    expect(await on(2, (c) => c.pexpiretime('session'))).toBe(expiresAt)
    const [leftAbsolute, leftRelative] = [
      await on(2, (c) => c.pttl('session')),
      await on(3, (c) => c.pttl('session')),
    ]
    expect(leftAbsolute).toBeLessThan(seen - 1000)
    expect(leftRelative).toBeGreaterThan(leftAbsolute + 1000)
    expect(await on(3, (c) => c.pexpiretime('session'))).toBeGreaterThan(expiresAt + 1000)

    // And it does expire then: still there until the source's time, gone from it on.
    const goneAt = await waitFor('the restored key to expire', async () =>
      (await on(2, (c) => c.get('session'))) === null ? Date.now() : undefined,
    )
    expect(goneAt).toBeGreaterThanOrEqual(expiresAt)
    expect(goneAt).toBeLessThan(expiresAt + 1000)
    expect(await on(3, (c) => c.get('session'))).toBe('token')
  })
})

describe('SQLite: a restore into a directory that does not exist', () => {
  it('creates the directory (0700) and restores the database into it', async () => {
    const src = join(tempDir(), 'app.db')
    const db = new Database(src)
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    db.close()
    const { archive } = await backUp(await target('sqlite', { path: src }))
    const root = tempDir()
    const dest = join(root, 'not', 'yet', 'app.db')
    const done = await restore(archive, await target('sqlite', { path: dest }))
    expect(done.status, done.log).toBe('done')
    expect(done.log).toContain(`created the directory ${join(root, 'not', 'yet')} (mode 0700)`)
    expect(statSync(join(root, 'not')).mode & 0o777).toBe(0o700)
    expect(statSync(join(root, 'not', 'yet')).mode & 0o777).toBe(0o700)
    const copy = new Database(dest, { readonly: true })
    expect(copy.prepare('SELECT v FROM t').pluck().get()).toBe('one')
    copy.close()
  })
})
