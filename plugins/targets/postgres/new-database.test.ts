// A restore into a database that does not exist yet creates it without the
// task log ever showing psql's alarming "database ... does not exist" (that
// is the expected answer, not an error); a real failure of the same probe
// still shows psql's own words. Against the real local PostgreSQL.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import { PG, postgresAvailable } from '../../../test/helpers/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import postgresTarget from './index'

const up = postgresAvailable()
const target = postgresTarget.plugin as TargetPlugin

function psql(db: string, sql: string): string {
  const args = ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', db]
  return execFileSync('psql', [...args, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim()
}

const made: string[] = []
const dbName = () => {
  const name = `bulwark_t_${randomBytes(5).toString('hex')}`
  made.push(name)
  return name
}
const endpointFor = (database: string, more: Endpoint = {}): Endpoint => ({
  ...PG,
  password: '',
  database,
  ...more,
})

describe.skipIf(!up)('target postgres: restoring into a new database', () => {
  afterAll(() => {
    for (const db of made) psql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  })

  it('creates it quietly: no "does not exist" in the log, one "created database" line', async () => {
    const src = dbName()
    psql('postgres', `CREATE DATABASE ${src}`)
    psql(src, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')")
    const dump = await readAll(await target.backup(endpointFor(src), testContext()))
    const copy = dbName()
    const ctx = testContext()
    await target.restore(endpointFor(copy), Readable.from([dump]), ctx)
    const log = ctx.lines.join('\n')
    expect(log).not.toMatch(/does not exist/)
    expect(log).not.toMatch(/error/i)
    expect(
      ctx.lines.filter((l) => l === `created database ${copy} on 127.0.0.1:5432`),
    ).toHaveLength(1)
    expect(psql(copy, 'SELECT v FROM t')).toBe('one')
    // Into the database that now exists: nothing created, nothing said about it.
    const again = testContext()
    await target.restore(endpointFor(copy), Readable.from([dump]), again)
    expect(again.lines.join('\n')).not.toMatch(/created database|does not exist/)
  })

  it("still shows psql's own words when the probe fails for another reason", async () => {
    const ctx = testContext()
    const err = await target
      .restore(
        endpointFor(dbName(), { user: 'bulwark_no_such_role' }),
        Readable.from([Buffer.from('x')]),
        ctx,
      )
      .then(
        () => undefined,
        (e: Error) => e,
      )
    expect(err?.message).toBe('role bulwark_no_such_role does not exist on 127.0.0.1:5432')
    expect(ctx.lines.join('\n')).toMatch(/^psql: .*role "bulwark_no_such_role" does not exist/m)
  })
})
