// all_databases: a whole server (roles + every database) backed up as one
// archive and restored after the databases and roles are gone, against the
// real PostgreSQL on this machine. Other tests' databases are left out.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import plugin from './index'
import { idempotentGlobals } from './cluster'
import { readAll, testContext } from '../../sdk/conformance/services'
import { postgresAvailable } from '../../../test/helpers/services'
import type { TargetPlugin } from '../../sdk/types'

const target = (plugin as { plugin: TargetPlugin }).plugin
const tag = `bkcl_${randomBytes(4).toString('hex')}`
const [dbA, dbB, role] = [`${tag}_a`, `${tag}_b`, `${tag}_role`]
const sql = (db: string, q: string) =>
  execFileSync(
    'psql',
    ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', q],
    {
      encoding: 'utf8',
    },
  ).trim()
const up = postgresAvailable()

describe.skipIf(!up)('postgres all_databases', () => {
  let endpoint: Record<string, unknown>
  beforeAll(() => {
    sql('postgres', `CREATE ROLE ${role} LOGIN PASSWORD 'pw-${tag}'`)
    for (const db of [dbA, dbB]) {
      sql('postgres', `CREATE DATABASE ${db} OWNER ${role}`)
      sql(
        db,
        `SET ROLE ${role}; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, '${db} ' || g FROM generate_series(1, 2000) g`,
      )
    }
    // Everything but ours is excluded, including databases other tests create meanwhile.
    const others = sql('postgres', 'SELECT datname FROM pg_database')
      .split('\n')
      .filter((n) => !n.startsWith(tag))
    endpoint = {
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      all_databases: true,
      exclude_databases: [...others, 'bulwark*'],
    }
  })
  afterAll(() => {
    for (const db of [dbA, dbB]) sql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    sql('postgres', `DROP ROLE IF EXISTS ${role}`)
  })

  it('restores every database and the roles that own them', async () => {
    const ctx = testContext()
    const archive = await readAll(await target.backup(endpoint, ctx))
    expect(archive.subarray(0, 17).toString()).toBe('BULWARK-PGCLUSTER')
    const before = [dbA, dbB].map((db) =>
      sql(db, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t"),
    )

    for (const db of [dbA, dbB]) sql('postgres', `DROP DATABASE ${db} WITH (FORCE)`)
    sql('postgres', `DROP ROLE ${role}`)
    await target.restore(endpoint, Readable.from([archive]), ctx)

    expect(
      [dbA, dbB].map((db) => sql(db, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t")),
    ).toEqual(before)
    expect(sql('postgres', `SELECT rolcanlogin FROM pg_roles WHERE rolname = '${role}'`)).toBe('t')
    expect(ctx.lines.join('\n')).toMatch(/restored the globals and 2 database\(s\)/)

    // Again, over the existing databases and role: the role is kept, the data replaced.
    sql(dbA, 'DELETE FROM t WHERE id > 10')
    await target.restore(endpoint, Readable.from([archive]), testContext())
    expect(sql(dbA, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t")).toBe(before[0])
  })

  it('refuses a truncated archive', async () => {
    const archive = await readAll(await target.backup(endpoint, testContext()))
    const cut = archive.subarray(0, archive.length - 100)
    await expect(target.restore(endpoint, Readable.from([cut]), testContext())).rejects.toThrow(
      /truncated|corrupt/,
    )
  })
})

describe('globals made idempotent', () => {
  it('wraps CREATE ROLE so an existing role is not an error', () => {
    const out = idempotentGlobals(
      'CREATE ROLE app;\nALTER ROLE app WITH LOGIN;\nCREATE ROLE "Mixed ""Q""";\n',
    )
    expect(out).toContain(
      'DO $bulwark$ BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN NULL; END $bulwark$;',
    )
    expect(out).toContain('CREATE ROLE "Mixed ""Q"""; EXCEPTION')
    expect(out).toContain('ALTER ROLE app WITH LOGIN;')
  })
})
