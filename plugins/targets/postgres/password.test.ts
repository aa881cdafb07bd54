// The postgres target against a server that wants a password: a throwaway
// cluster with SCRAM-SHA-256 authentication (test/helpers/pg-cluster.ts). The
// right password backs up and restores, and reaches pg_dump only through its
// environment; a wrong or missing one gives the plugin's own error, which
// never repeats the password.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginError } from '../../sdk/errors'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import { waitFor } from '../../../test/helpers/wait'
import {
  pgClusterAvailable,
  startPgCluster,
  type PgCluster,
} from '../../../test/helpers/pg-cluster'
import postgresTarget from './index'

const available = pgClusterAvailable()
const target = postgresTarget.plugin as TargetPlugin

describe.skipIf(!available)('target postgres: password authentication (SCRAM-SHA-256)', () => {
  let pg: PgCluster
  const ep = (more: Endpoint = {}): Endpoint => ({
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database: pg.database,
    ...more,
  })
  const rows = (db: string) => pg.psql(db, 'select json_agg(t order by id) from things t')

  beforeAll(async () => {
    pg = await startPgCluster()
    pg.psql(
      pg.database,
      `set role ${pg.user};
      create table things (id int primary key, name text);
      insert into things select g, 'thing ' || g from generate_series(1, 100) g;`,
    )
  }, 120_000)
  afterAll(() => pg?.stop())

  it('the right password backs up and restores; pg_dump gets it only in its environment', async () => {
    // A session holding a lock on the table keeps pg_dump waiting, once it has
    // logged in, so its argv and environment can be read while it runs.
    const holder: ChildProcess = spawn(
      'psql',
      ['-h', pg.socket, '-p', String(pg.port), '-U', 'postgres', '-d', pg.database, '-XAtq'],
      { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, PGAPPNAME: 'lock-holder' } },
    )
    const closed = once(holder, 'close')
    holder.stdin!.write(
      'BEGIN; LOCK TABLE things IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);\n',
    )
    const count = (db: string, sql: string) => (pg.psql(db, sql) !== '0' ? true : undefined)
    await waitFor('the lock on things to be held', () =>
      count(
        pg.database,
        `select count(*) from pg_locks where relation = 'things'::regclass
          and mode = 'AccessExclusiveLock' and granted`,
      ),
    )
    const c = testContext()
    const dumped = target.backup(ep(), c).then(readAll)
    dumped.catch(() => undefined) // awaited below; a failure before that is not unhandled
    await waitFor('pg_dump to log in and wait for the lock', () =>
      count(
        'postgres',
        `select count(*) from pg_stat_activity where usename = '${pg.user}'
          and wait_event_type = 'Lock'`,
      ),
    )
    const pid = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'pg_dump'], {
      encoding: 'utf8',
    }).trim()
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(pg.password)
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(
      `PGPASSWORD=${pg.password}`,
    )
    // Its backend sleeps on whether or not psql is still there: end it in the server.
    pg.psql(
      'postgres',
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lock-holder'`,
    )
    await closed
    const dump = await dumped
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP')

    const copy = `${pg.database}_copy`
    await target.restore(ep({ database: copy }), Readable.from([dump]), testContext())
    expect(rows(copy)).toBe(rows(pg.database))
    expect(JSON.parse(rows(copy))).toHaveLength(100)
    expect(c.lines.join('\n')).not.toContain(pg.password)
  })

  it('a wrong password is refused in the plugin’s words, without repeating it', async () => {
    const wrong = `${pg.password}-wrong`
    const c = testContext()
    const err = await target
      .backup(ep({ password: wrong }), c)
      .then(readAll)
      .then(
        () => undefined,
        (e: PluginError) => e,
      )
    expect(err).toBeInstanceOf(PluginError)
    expect(err?.message).toBe(
      `PostgreSQL refused the password for user ${pg.user} on 127.0.0.1:${pg.port}`,
    )
    expect(err?.kind).toBe('permanent')
    expect(err?.message).not.toContain(wrong)
    expect(c.lines.join('\n')).not.toContain(wrong)
    await expect(target.test(ep({ password: wrong }), testContext())).rejects.toThrow(
      `PostgreSQL refused the password for user ${pg.user} on 127.0.0.1:${pg.port}`,
    )
  })

  it('says a password is wanted when none is set', async () => {
    await expect(target.test(ep({ password: '' }), testContext())).rejects.toThrow(
      `PostgreSQL on 127.0.0.1:${pg.port} wants a password for user ${pg.user}; enter it in the endpoint`,
    )
  })
})
