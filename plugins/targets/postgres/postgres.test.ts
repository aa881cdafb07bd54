import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginError } from '../../sdk/errors'
import { readAll, testContext } from '../../sdk/conformance/services'
import { PG, postgresAvailable, toolAvailable } from '../../../test/helpers/services'
import { targetConformance } from '../../sdk/conformance/target-suite'
import type { Endpoint, PluginContext, TargetPlugin } from '../../sdk/types'
import { explainPg } from './explain'
import postgresTarget from './index'

const up = postgresAvailable()
const tools = toolAvailable('pg_dump') && toolAvailable('psql')
const target = postgresTarget.plugin as TargetPlugin
const ctx = () => testContext()

/** A test context that keeps the undo notes a restore records (and drops withdrawn ones). */
function noting(): ReturnType<typeof testContext> & { notes: Record<string, unknown>[] } {
  const notes: Record<string, unknown>[] = []
  const created: PluginContext['created'] = (note) => {
    notes.push(note)
    return () => void notes.splice(notes.indexOf(note), 1)
  }
  return Object.assign(testContext(), { notes, created })
}
const SECRET = `Telltale-${randomBytes(6).toString('hex')}`

function psql(db: string, sql: string): string {
  const args = ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', db]
  return execFileSync('psql', [...args, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // NOTICEs stay out of the test output; errors still throw
  }).trim()
}

const made = new Set<string>()
const dbName = () => {
  const name = `bulwark_t_${randomBytes(5).toString('hex')}`
  made.add(name)
  return name
}
const roles = new Set<string>()
afterAll(() => {
  if (!up) return
  for (const db of made) psql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  for (const role of roles) psql('postgres', `DROP ROLE IF EXISTS ${role}`)
})

const endpointFor = (database: string): Endpoint => ({ ...PG, password: '', database })

/** Several tables (one in another schema), bytea, a sequence, an index, a view; ~6 MiB. */
function seed(db: string): void {
  psql('postgres', `CREATE DATABASE ${db}`)
  psql(
    db,
    `create schema app;
    create table customers (id serial primary key, name text not null, email text unique,
      created timestamptz not null default '2020-01-01 12:00+00');
    create table orders (id bigserial primary key, customer_id int not null references customers(id),
      amount numeric(12,2) not null, note text);
    create index orders_customer_idx on orders (customer_id);
    create table small_bytes (id int primary key, b bytea);
    create table app.blobs (id int primary key, data bytea not null);
    create sequence invoice_no start 1000;
    create view customer_totals as select c.name, sum(o.amount) as total
      from customers c join orders o on o.customer_id = c.id group by c.name;
    insert into customers (name, email) select 'customer ' || g, 'c' || g || '@example.com'
      from generate_series(1, 50) g;
    insert into orders (customer_id, amount, note) select g % 50 + 1, g * 1.25,
      case when g % 3 = 0 then null else 'note ' || g end from generate_series(1, 500) g;
    insert into small_bytes values (1, '\\x00ff10'), (2, ''), (3, null);
    insert into app.blobs select g, decode(string_agg(md5(random()::text || i), ''), 'hex')
      from generate_series(1, 6) g, generate_series(1, 65536) i group by g;
    select nextval('invoice_no') from generate_series(1, 7);`,
  )
}

/** Rows of every table in order, sequence states, index and view definitions. */
async function snapshot(ep: Endpoint): Promise<unknown> {
  const json = psql(
    ep.database as string,
    `select json_build_object(
      'customers', (select json_agg(c order by id) from customers c),
      'orders', (select json_agg(o order by id) from orders o),
      'small_bytes', (select json_agg(s order by id) from small_bytes s),
      'blobs', (select json_agg(json_build_object('id', id, 'md5', md5(data), 'len', length(data))
        order by id) from app.blobs),
      'invoice_no', (select row_to_json(s) from (select last_value, is_called from invoice_no) s),
      'customers_id_seq', (select last_value from customers_id_seq),
      'indexes', (select json_agg(indexdef order by indexname) from pg_indexes
        where schemaname in ('public', 'app')),
      'views', (select json_agg(definition order by viewname) from pg_views where schemaname = 'public'),
      'totals', (select json_agg(t order by name) from customer_totals t))`,
  )
  return JSON.parse(json)
}

function mutate(db: string): void {
  psql(
    db,
    `delete from orders where id > 100; update customers set name = upper(name);
    insert into small_bytes values (4, '\\x01'); update app.blobs set data = '\\x00' where id = 1;
    select nextval('invoice_no') from generate_series(1, 3); create table scratch (x int);`,
  )
}

const source = up ? dbName() : ''

describe.skipIf(!up)('target postgres', () => {
  // Seeded here rather than by the suite, so the tests below can also run alone (-t).
  beforeAll(() => seed(source))
  targetConformance('postgres', {
    endpoint: async () => endpointFor(source),
    restoreEndpoint: async () => endpointFor(dbName()), // missing: restore creates it
    seed: async () => undefined,
    snapshot,
    mutate: async () => mutate(source),
    badEndpoint: async () => ({ ...PG, port: 1, password: SECRET, database: source }),
  })

  it('backs up in custom format and restores over the same database, replacing what changed', async () => {
    const db = dbName()
    seed(db)
    const before = await snapshot(endpointFor(db))
    const dump = await readAll(await target.backup(endpointFor(db), ctx()))
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP')
    mutate(db)
    await target.restore(endpointFor(db), Readable.from([dump]), ctx())
    expect(await snapshot(endpointFor(db))).toEqual(before)
    // Objects the archive does not hold are left alone.
    expect(psql(db, `select to_regclass('scratch') is not null`)).toBe('t')
  })

  it('a failed restore into an existing database changes nothing (single transaction)', async () => {
    const db = dbName()
    seed(db)
    const dump = await readAll(await target.backup(endpointFor(db), ctx()))
    mutate(db)
    const mutated = await snapshot(endpointFor(db))
    const broken = Readable.from([dump.subarray(0, dump.length - 3 * 1024 * 1024)])
    await expect(target.restore(endpointFor(db), broken, ctx())).rejects.toBeInstanceOf(PluginError)
    expect(await snapshot(endpointFor(db))).toEqual(mutated)
  })

  it('a failed restore drops the database it created (and withdraws its undo note)', async () => {
    const db = dbName()
    const garbage = Readable.from([Buffer.from('not a dump at all '.repeat(100))])
    const c = noting()
    await expect(target.restore(endpointFor(db), garbage, c)).rejects.toThrow(
      'the data is not a pg_dump archive in custom format; nothing was restored',
    )
    expect(psql('postgres', `select count(*) from pg_database where datname = '${db}'`)).toBe('0')
    expect(c.notes).toEqual([])
  })

  it('notes a database before creating it, and undoRestore drops it (again: a no-op)', async () => {
    const dump = await readAll(await target.backup(endpointFor(source), ctx()))
    const db = dbName()
    const first = noting()
    await target.restore(endpointFor(db), Readable.from([dump]), first)
    expect(first.notes).toEqual([{ database: db }])
    // Into a database that exists, the restore creates nothing and notes nothing.
    const second = noting()
    await target.restore(endpointFor(db), Readable.from([dump]), second)
    expect(second.notes).toEqual([])
    // A session still connected to it does not keep it alive.
    const session = spawn(
      'psql',
      ['-h', PG.host, '-U', PG.user, '-d', db, '-XAtqc', 'select pg_sleep(600)'],
      { stdio: 'ignore' },
    )
    const ended = once(session, 'close')
    const sessions = () =>
      psql('postgres', `select count(*) from pg_stat_activity where datname = '${db}'`)
    while (sessions() === '0') await new Promise((r) => setTimeout(r, 50))
    const undo = ctx()
    await target.undoRestore!(endpointFor(source), { database: db }, undo)
    expect(psql('postgres', `select count(*) from pg_database where datname = '${db}'`)).toBe('0')
    expect(undo.lines.join('\n')).toContain(`dropped database ${db} on 127.0.0.1:5432`)
    await ended
    await target.undoRestore!(endpointFor(source), { database: db }, undo)
    expect(undo.lines.at(-1)).toMatch(/already gone$/)
    expect(psql('postgres', `select count(*) from pg_database where datname = '${source}'`)).toBe(
      '1',
    )
  })

  it('an aborted restore rejects with PluginAbortedError and drops the database it created', async () => {
    const from = dbName()
    seed(from)
    const dump = await readAll(await target.backup(endpointFor(from), ctx()))
    const c = ctx()
    let sent = 0
    const slow = new Readable({
      read() {
        const chunk = dump.subarray(sent, sent + 256 * 1024)
        sent += chunk.length
        if (sent > dump.length / 2) c.controller.abort()
        setTimeout(() => this.push(chunk.length ? chunk : null), 10)
      },
    })
    const db = dbName()
    await expect(target.restore(endpointFor(db), slow, c)).rejects.toMatchObject({
      name: 'PluginAbortedError',
    })
    expect(psql('postgres', `select count(*) from pg_database where datname = '${db}'`)).toBe('0')
  })

  it('test() names the server version, the database and its size', async () => {
    await expect(target.test(endpointFor(source), ctx())).resolves.toMatch(
      new RegExp(
        `^connected to PostgreSQL 1\\d\\.\\d+, database ${source} \\(\\d+(\\.\\d)? MB\\)$`,
      ),
    )
  })

  it('explains a missing database, a missing role and an unreachable server', async () => {
    const errorOf = async (ep: Endpoint) =>
      readAll(await target.backup(ep, ctx())).then(
        () => undefined,
        (e: PluginError) => e,
      )
    const missing = await errorOf(endpointFor('bulwark_t_no_such_db'))
    expect(missing?.message).toBe(`database bulwark_t_no_such_db does not exist on 127.0.0.1:5432`)
    expect(missing?.kind).toBe('permanent')
    const role = await errorOf({ ...endpointFor(source), user: 'bulwark_no_such_role' })
    expect(role?.message).toBe('role bulwark_no_such_role does not exist on 127.0.0.1:5432')
    const down = await errorOf({ ...endpointFor(source), port: 1, password: SECRET })
    expect(down?.message).toMatch(/^cannot reach PostgreSQL at 127\.0\.0\.1:1: connection refused/)
    expect(down?.kind).toBe('transient')
    expect(down?.message).not.toContain(SECRET)
  })

  it('explains a role that may not read a table, in test() and in a backup', async () => {
    const db = dbName()
    const role = `bulwark_t_ro_${randomBytes(4).toString('hex')}`
    roles.add(role)
    psql('postgres', `CREATE DATABASE ${db}`)
    psql('postgres', `CREATE ROLE ${role} LOGIN`)
    psql(
      db,
      `create table secret (x int); create table open (x int); grant select on open to ${role}`,
    )
    const ep = { ...endpointFor(db), user: role }
    await expect(target.test(ep, ctx())).rejects.toThrow(
      `user ${role} cannot read 1 table(s) or sequence(s) in database ${db}, e.g. public.secret`,
    )
    await expect(readAll(await target.backup(ep, ctx()))).rejects.toThrow(
      `user ${role} may not read table secret in database ${db}`,
    )
  })
})

describe('target postgres: reading tool errors', () => {
  const t = {
    host: 'db.example',
    port: 5433,
    user: 'app',
    database: 'orders',
    password: 'hunter22',
  }
  const explain = (stderr: string, tool = 'pg_dump') => explainPg(tool, stderr, 1, t)

  it('turns libpq and pg_dump messages into actionable ones', () => {
    expect(
      explain(
        'pg_dump: error: connection to server at "db.example" (10.0.0.5), port 5433 failed: timeout expired',
      ).message,
    ).toMatch(/^PostgreSQL at db\.example:5433 did not answer within 15 s \(connect_timeout\)/)
    expect(
      explain(
        'pg_dump: error: could not translate host name "db.example" to address: Name or service not known',
      ).message,
    ).toBe('cannot reach PostgreSQL at db.example:5433: unknown host name db.example')
    expect(
      explain('connection to server at "db.example", port 5433 failed: No route to host').kind,
    ).toBe('transient')
    expect(
      explain(
        'pg_dump: error: aborting because of server version mismatch\npg_dump: detail: server version: 16.2; pg_dump version: 15.6',
      ).message,
    ).toMatch(/^pg_dump 15\.6 is older than the PostgreSQL 16\.2 server on db\.example:5433/)
    expect(
      explain(
        'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "app", database "orders", no encryption',
      ).message,
    ).toContain('add a pg_hba.conf entry')
    expect(
      explain(
        'pg_restore: error: could not execute query: ERROR:  relation "x" already exists',
        'pg_restore',
      ).message,
    ).toBe('restore into database orders failed and was rolled back: relation "x" already exists')
  })

  it('never repeats the password, even when a tool echoes it', () => {
    const err = explain('pg_dump: error: something odd about hunter22 happened')
    expect(err.message).not.toContain('hunter22')
    expect(err.message).toContain('***')
  })
})

describe.skipIf(!tools)(
  'target postgres: a server that accepts connections and never answers',
  () => {
    let silent: Server
    let port: number
    const sockets = new Set<Socket>()
    beforeAll(async () => {
      silent = createServer((socket) => void sockets.add(socket))
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      port = (silent.address() as { port: number }).port
    })
    afterAll(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    })

    const quiet = (): Endpoint => ({ ...PG, port, database: 'orders', connect_timeout: 2 })
    /** Tools still running against the silent server. */
    const tools = () =>
      execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(`--port=${port}`))

    const runs: [string, () => Promise<unknown>][] = [
      ['test()', () => target.test(quiet(), ctx())],
      ['backup()', async () => readAll(await target.backup(quiet(), ctx()))],
      ['restore()', () => target.restore(quiet(), Readable.from([Buffer.from('PGDMP')]), noting())],
    ]
    it.each(runs)(
      '%s fails after connect_timeout, naming the server, its tool gone',
      async (_, run) => {
        const started = Date.now()
        const err = await rejection(run())
        const elapsed = Date.now() - started
        expect(err).toBeInstanceOf(PluginError)
        expect(err.message).toMatch(
          new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${port} did not answer within 2 s`),
        )
        expect((err as PluginError).kind).toBe('transient')
        expect(elapsed).toBeGreaterThanOrEqual(1900)
        expect(elapsed).toBeLessThan(10_000)
        expect(tools()).toEqual([])
      },
    )
  },
)

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}
