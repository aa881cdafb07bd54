// The mysql target keeps the source database's default character set and
// collation: the backup records them in its first line, a restore into a new
// database creates it with them (so the routines it recreates get the same
// DATABASE_COLLATION), and an archive made before that still restores, into a
// database with the server's defaults. Against the real local MariaDB/MySQL.
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import { decodeDefaults } from './defaults'
import { SERVER, exec, fixture, mysqlAvailable, rows } from '../../../test/fixtures/targets/mysql'
import mysqlTarget from './index'

const plugin = (mysqlTarget as { plugin: TargetPlugin }).plugin
const available = mysqlAvailable()
const fx = fixture()
const ep = (database: string): Endpoint => ({
  ...SERVER,
  user: fx.user,
  password: fx.password,
  database,
})

/** Default charset and collation of a database, from SHOW CREATE DATABASE. */
function createDatabase(db: string): { charset: string; collation: string | undefined } {
  const sql = rows(`SHOW CREATE DATABASE \`${db}\``)[0]?.[1] ?? ''
  return {
    charset: /CHARACTER SET (\w+)/.exec(sql)?.[1] ?? '(none)',
    // MariaDB leaves the COLLATE out when it is the charset's default one.
    collation: /COLLATE (\w+)/.exec(sql)?.[1],
  }
}

const schemata = (db: string) =>
  rows(
    `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${db}'`,
  )[0]

const routineCollation = (db: string, name: string) =>
  rows(
    `SELECT DATABASE_COLLATION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${db}' AND ROUTINE_NAME = '${name}'`,
  )[0]?.[0]

describe.skipIf(!available)('target mysql: database character set and collation', () => {
  const src = fx.db('cs_src')
  const serverDefault = available
    ? rows('SELECT @@character_set_server, @@collation_server')[0]!
    : []
  let dump: Buffer

  beforeAll(async () => {
    fx.createUser()
    // Not the server's default collation, so a restore that loses it shows.
    exec(`CREATE DATABASE \`${src}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    exec(
      'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50)); ' +
        "INSERT INTO t VALUES (1, 'Ünïcode'); " +
        `CREATE DEFINER=\`${fx.user}\`@\`%\` FUNCTION shout(s VARCHAR(50)) RETURNS VARCHAR(60) DETERMINISTIC RETURN UPPER(s)`,
      src,
    )
    dump = await readAll(await plugin.backup(ep(src), testContext()))
  })
  afterAll(() => fx.cleanup())

  it('records them in the first line of the backup, which the client takes as a comment', () => {
    expect(dump.subarray(0, 120).toString().split('\n')[0]).toBe(
      '-- Bulwark database defaults: CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
    )
    expect(decodeDefaults(dump)).toEqual({ charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' })
    expect(decodeDefaults(Buffer.from('-- MariaDB dump 10.19\n'))).toBeUndefined()
    // Only plain names: a crafted line cannot put SQL into CREATE DATABASE.
    expect(
      decodeDefaults(
        Buffer.from('-- Bulwark database defaults: CHARACTER SET x; DROP COLLATE y\n'),
      ),
    ).toBeUndefined()
  })

  it('creates a new database with them, and its routines get the same collation', async () => {
    expect(serverDefault[1]).not.toBe('utf8mb4_unicode_ci') // else this proves nothing
    const copy = fx.db('cs_copy')
    const ctx = testContext()
    await plugin.restore(ep(copy), Readable.from([dump]), ctx)
    expect(createDatabase(copy)).toEqual(createDatabase(src))
    expect(schemata(copy)).toEqual(['utf8mb4', 'utf8mb4_unicode_ci'])
    expect(routineCollation(copy, 'shout')).toBe('utf8mb4_unicode_ci')
    expect(routineCollation(copy, 'shout')).toBe(routineCollation(src, 'shout'))
    expect(rows('SELECT shout(name) FROM t', copy)).toEqual([['ÜNÏCODE']])
    expect(ctx.lines.join('\n')).toContain(
      `created database ${copy} on 127.0.0.1:3306 with the backed-up database's default character set utf8mb4, collation utf8mb4_unicode_ci`,
    )
  })

  it('restores an archive made before they were recorded, with the server defaults', async () => {
    const old = dump.subarray(dump.indexOf('\n') + 1)
    expect(old.toString('utf8', 0, 200)).toMatch(/^(\/\*.*\*\/ *\n)?-- (MariaDB|MySQL) dump/) // mysqldump's own start
    const copy = fx.db('cs_old')
    const ctx = testContext()
    await plugin.restore(ep(copy), Readable.from([old]), ctx)
    expect(schemata(copy)).toEqual(serverDefault)
    expect(rows('SELECT name FROM t', copy)).toEqual([['Ünïcode']])
    expect(ctx.lines.join('\n')).toMatch(/with the server's default character set \(the archive/)
  })

  it('leaves an existing database its own defaults, and says so', async () => {
    const existing = fx.db('cs_existing')
    exec(`CREATE DATABASE \`${existing}\` CHARACTER SET latin1 COLLATE latin1_swedish_ci`)
    const ctx = testContext()
    await plugin.restore(ep(existing), Readable.from([dump]), ctx)
    expect(schemata(existing)).toEqual(['latin1', 'latin1_swedish_ci'])
    expect(ctx.lines.join('\n')).toContain(
      `database ${existing} exists with default character set latin1, collation latin1_swedish_ci; it keeps them (the backed-up database had utf8mb4, utf8mb4_unicode_ci)`,
    )
    expect(rows('SELECT name FROM t', existing)).toEqual([['Ünïcode']])
  })
})
