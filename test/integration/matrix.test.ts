// Every target through every store, on the real daemon: create data in the
// real service, back it up through the API, restore it into a different
// database / instance / path, and compare. Stores: a local directory and a
// real S3-compatible server (s3rver) started here.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { startS3Server, type S3TestServer } from '../helpers/s3-server'
import {
  createDb,
  dropDb,
  mariadbAvailable,
  mysql,
  postgresAvailable,
  psql,
  randomDbName,
  redis,
  redisAvailable,
} from '../helpers/services'
import { waitForTask } from '../helpers/tasks'

interface Case {
  plugin: string
  available: boolean
  /** Creates data; returns the source endpoint, the restore endpoint, and a snapshot function. */
  setup(tag: string): {
    source: object
    dest: object
    snapshot(which: 'source' | 'dest'): string
    cleanup(): void
  }
}

let redisDb = 4
const cases: Case[] = [
  {
    plugin: 'postgres',
    available: postgresAvailable(),
    setup() {
      const [a, b] = [randomDbName(), randomDbName()]
      createDb(a)
      createDb(b)
      psql(
        a,
        "CREATE TABLE t (id int PRIMARY KEY, v text, b bytea); INSERT INTO t SELECT g, 'row ' || g, decode(md5(g::text), 'hex') FROM generate_series(1, 3000) g",
      )
      const dbOf = (w: string) => (w === 'source' ? a : b)
      return {
        source: { database: a },
        dest: { database: b },
        snapshot: (w) => psql(dbOf(w), "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t"),
        cleanup: () => [a, b].forEach(dropDb),
      }
    },
  },
  {
    plugin: 'mysql',
    available: mariadbAvailable(),
    setup() {
      const [a, b] = [randomDbName(), randomDbName()]
      mysql(`CREATE DATABASE ${a}`)
      mysql(
        `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100), b BLOB); INSERT INTO t SELECT seq, CONCAT('row ', seq, ' ✓'), UNHEX(MD5(seq)) FROM seq_1_to_3000`,
        a,
      )
      const dbOf = (w: string) => (w === 'source' ? a : b)
      return {
        source: { database: a },
        dest: { database: b },
        snapshot: (w) =>
          mysql(`SELECT MD5(GROUP_CONCAT(id, v, HEX(b) ORDER BY id)) FROM t`, dbOf(w)),
        cleanup: () => [a, b].forEach((db) => mysql(`DROP DATABASE IF EXISTS ${db}`)),
      }
    },
  },
  {
    plugin: 'redis',
    available: redisAvailable(),
    setup() {
      const [a, b] = [redisDb++, redisDb++]
      for (const db of [a, b]) redis(db, 'FLUSHDB')
      for (let i = 0; i < 200; i++) redis(a, 'SET', `k${i}`, `value ${i}`)
      redis(a, 'HSET', 'h', 'f1', 'v1', 'f2', 'v2')
      redis(a, 'SET', 'ttl', 'x', 'EX', '3600')
      const dbOf = (w: string) => (w === 'source' ? a : b)
      const snap = (db: number) =>
        [
          redis(db, 'DBSIZE'),
          redis(db, 'GET', 'k77'),
          redis(db, 'HGETALL', 'h'),
          Number(redis(db, 'TTL', 'ttl')) > 3500,
        ].join('|')
      return {
        source: { db: a },
        dest: { db: b },
        snapshot: (w) => snap(dbOf(w)),
        cleanup: () => [a, b].forEach((db) => redis(db, 'FLUSHDB')),
      }
    },
  },
  {
    plugin: 'sqlite',
    available: true,
    setup() {
      const dir = tempDir()
      const [a, b] = [join(dir, 'a.db'), join(dir, 'b.db')]
      execFileSync('sqlite3', [
        a,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 3000) INSERT INTO t SELECT n, 'row ' || n FROM g;",
      ])
      const snap = (p: string) =>
        execFileSync('sqlite3', [p, 'SELECT count(*), sum(id), max(v) FROM t'], {
          encoding: 'utf8',
        }).trim()
      return {
        source: { path: a },
        dest: { path: b },
        snapshot: (w) => snap(w === 'source' ? a : b),
        cleanup: () => undefined,
      }
    },
  },
  {
    plugin: 'files',
    available: true,
    setup() {
      const src = join(tempDir(), 'src')
      mkdirSync(join(src, 'deep'), { recursive: true })
      writeFileSync(join(src, 'deep', 'f.txt'), 'files plugin '.repeat(1000))
      const dest = join(tempDir(), 'dest')
      const snap = (p: string) =>
        execFileSync('sh', ['-c', `cd ${p} && find . -type f | sort | xargs sha256sum`], {
          encoding: 'utf8',
        })
      return {
        source: { path: src },
        dest: { path: dest },
        snapshot: (w) => snap(w === 'source' ? src : dest),
        cleanup: () => undefined,
      }
    },
  },
  {
    plugin: 'exec',
    available: true,
    setup() {
      const dir = tempDir()
      writeFileSync(join(dir, 'in.bin'), Buffer.alloc(100_000, 3))
      const cmd = (out: string) => ({
        backup_command: `cat ${join(dir, 'in.bin')}`,
        restore_command: `cat > ${join(dir, out)}`,
      })
      return {
        source: cmd('same.bin'),
        dest: cmd('out.bin'),
        snapshot: (w) =>
          readFileSync(join(dir, w === 'source' ? 'in.bin' : 'out.bin')).toString('base64'),
        cleanup: () => undefined,
      }
    },
  },
]

let d: RunningDaemon
let s3: S3TestServer
const stores: Record<string, string> = {}
let schedule: string
let retention: string
const post = async (path: string, body: unknown) => {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

beforeAll(async () => {
  d = await startDaemon()
  s3 = await startS3Server()
  stores.fs = await post('/v1/stores', {
    name: 'fs',
    plugin: 'fs',
    endpoint: { path: join(tempDir(), 'fs-store') },
  })
  stores.s3 = await post('/v1/stores', {
    name: 's3',
    plugin: 's3',
    endpoint: s3.storeEndpoint({ prefix: 'matrix' }),
  })
  schedule = await post('/v1/schedules', { name: 'daily', when: 'daily 4am' })
  retention = await post('/v1/retention', { name: 'day', expires: 86400 })
})
afterAll(async () => {
  await d?.stop()
  await s3?.stop()
})

describe.each(['fs', 's3'])('through the %s store', (storeName) => {
  it.each(cases.filter((c) => c.available).map((c) => [c.plugin, c] as const))(
    '%s: back up, restore elsewhere, compare',
    async (_name, c) => {
      const data = c.setup(storeName)
      try {
        const source = await post('/v1/targets', {
          name: `${c.plugin} src`,
          plugin: c.plugin,
          endpoint: data.source,
        })
        const dest = await post('/v1/targets', {
          name: `${c.plugin} dest`,
          plugin: c.plugin,
          endpoint: data.dest,
        })
        const job = await post('/v1/jobs', {
          name: `${c.plugin}→${storeName}`,
          target: source,
          store: stores[storeName],
          schedule,
          retention,
        })
        const backup = await waitForTask(
          d,
          (await d.api('POST', `/v1/job/${job}/run`)).body.task_uuid,
        )
        expect(backup.status, backup.log).toBe('done')
        const [archive] = (await d.api('GET', `/v1/archives?job=${job}`)).body
        expect(archive.size).toBeGreaterThan(0)
        const restore = await waitForTask(
          d,
          (await d.api('POST', `/v1/archive/${archive.uuid}/restore`, { target: dest })).body
            .task_uuid,
        )
        expect(restore.status, restore.log).toBe('done')
        expect(data.snapshot('dest')).toBe(data.snapshot('source'))
      } finally {
        data.cleanup()
      }
    },
  )
})
