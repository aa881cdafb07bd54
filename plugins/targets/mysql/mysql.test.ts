// Tests of the mysql target against the real local MariaDB/MySQL, as a
// password-protected user: round trips into the same and a new database,
// error messages, and where the password goes (option file, never argv).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext, TargetPlugin } from '../../sdk/types'
import { targetConformance } from '../../sdk/conformance/target-suite'
import {
  SERVER,
  exec,
  fixture,
  mutate,
  mysqlAvailable,
  rows,
  seed,
  snapshot,
} from '../../../test/fixtures/targets/mysql'
import { parseFailure, scrub } from './errors'
import {
  dumpProcess,
  freePort,
  holdLock,
  releaseLocks,
  waitFor,
} from '../../../test/fixtures/targets/mysql-probes'
import { optionValue, parseEndpoint } from './connection'
import mysqlTarget, { serverName } from './index'

const plugin = (mysqlTarget as { plugin: TargetPlugin }).plugin
const available = mysqlAvailable()
const fx = fixture()
const ep = (database: string, over: Endpoint = {}): Endpoint => ({
  ...SERVER,
  user: fx.user,
  password: fx.password,
  database,
  ...over,
})

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

const backupBytes = async (e: Endpoint) => readAll(await plugin.backup(e, testContext()))

/** A test context that keeps the undo notes a restore records (and drops withdrawn ones). */
function noting(): ReturnType<typeof testContext> & { notes: Record<string, unknown>[] } {
  const notes: Record<string, unknown>[] = []
  const created: PluginContext['created'] = (note) => {
    notes.push(note)
    return () => void notes.splice(notes.indexOf(note), 1)
  }
  return Object.assign(testContext(), { notes, created })
}
const optionDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('bulwark-mysql-'))

describe('target mysql: helpers', () => {
  it('quotes option-file values so #, quotes, backslashes and edge spaces survive', () => {
    expect(optionValue(` a#b"c'd\\e\n `)).toBe(`" a#b\\"c'd\\\\e\\n "`)
  })

  it('reads the error line of mysqldump and of the client', () => {
    expect(
      parseFailure(
        `mysqldump: Got error: 1045: "Access denied for user 'a'@'h'" when trying to connect\n`,
      ),
    ).toEqual({ code: 1045, message: "Access denied for user 'a'@'h'" })
    expect(parseFailure('ERROR 1064 (42000) at line 3: You have an error\n')).toEqual({
      code: 1064,
      message: 'ERROR 1064 (42000) at line 3: You have an error',
    })
  })

  it('names the server and never lets the password through', () => {
    expect(serverName('10.11.6-MariaDB-0+deb12u1')).toBe('MariaDB 10.11.6')
    expect(serverName('5.5.5-10.4.2-MariaDB')).toBe('MariaDB 10.4.2')
    expect(serverName('8.0.36')).toBe('MySQL 8.0.36')
    const conn = parseEndpoint({ database: 'x', password: 'hunter22' })
    expect(scrub('pw hunter22 here', conn)).toBe('pw ******** here')
    expect(conn).toMatchObject({ host: '127.0.0.1', port: 3306, user: 'root' })
    expect(() => parseEndpoint({})).toThrow('the database field is required')
    expect(() => parseEndpoint({ database: 'x', port: 70000 })).toThrow(PluginError)
  })
})

describe.skipIf(!available)('target mysql: against a real server', () => {
  const src = fx.db('src')
  const definer = `\`${fx.user}\`@\`%\``
  let dump: Buffer
  let before: string

  beforeAll(async () => {
    fx.createUser()
    seed(src, definer)
    before = snapshot(src)
    dump = await backupBytes(ep(src))
  })
  afterAll(() => {
    releaseLocks()
    fx.cleanup()
  })

  const conf = fx.db('conf')
  let restores = 0
  targetConformance('mysql', {
    endpoint: async () => ep(conf),
    restoreEndpoint: async () => ep(fx.db(`r${++restores}`)), // missing: restore creates it
    seed: async () => seed(conf, definer, 1600), // ~6 MiB of blobs, 13 MB of dump
    snapshot: async (e) => snapshot(String(e.database)),
    mutate: async () => mutate(conf),
    badEndpoint: async () => ep(conf, { password: `Telltale-${fx.password}` }),
  })

  it('dumps the database without naming it, so it can go anywhere', () => {
    const text = dump.toString('utf8')
    expect(text).toContain('CREATE TABLE `items`')
    expect(text).toMatch(/PROCEDURE `add_item`/)
    expect(text).toMatch(/EVENT `ev_off`/)
    const statements = text.split('\n').filter((l) => !l.startsWith('--'))
    expect(statements.filter((l) => l.includes(src))).toEqual([])
    expect(statements.filter((l) => /^\s*(USE|CREATE DATABASE)\b/i.test(l))).toEqual([])
  })

  it('restores into the same database after rows and objects were removed', async () => {
    mutate(src)
    exec('DROP FUNCTION price_with_tax; DROP EVENT ev_off', src)
    expect(snapshot(src)).not.toEqual(before)
    await plugin.restore(ep(src), Readable.from([dump]), testContext())
    // Tables the backup does not hold are left alone.
    expect(rows("SHOW TABLES LIKE 'scratch'", src)).toEqual([['scratch']])
    exec('DROP TABLE scratch', src)
    expect(snapshot(src)).toEqual(before)
  })

  it('restores into a new database with routines, triggers and events working', async () => {
    const copy = fx.db('copy')
    await plugin.restore(ep(copy), Readable.from([dump]), testContext())
    expect(snapshot(copy)).toEqual(before)
    // The objects belong to the copy and work there: the procedure inserts, the trigger audits.
    expect(rows("CALL add_item(10, 'new')", copy)).toEqual([['4']])
    expect(rows('SELECT msg FROM audit WHERE item_id = 10', copy)).toEqual([['added new']])
    expect(rows('SELECT price_with_tax(10)', copy)).toEqual([['12.000000']])
    expect(rows('SELECT COUNT(*) FROM items', src)).toEqual([['3']])
  })

  it('notes a database before creating it, and undoRestore drops it (again: a no-op)', async () => {
    const fresh = fx.db('undo')
    const first = noting()
    await plugin.restore(ep(fresh), Readable.from([dump]), first)
    expect(first.notes).toEqual([{ database: fresh }])
    expect(first.lines.join('\n')).toContain(`created database ${fresh} on 127.0.0.1:3306`)
    // Into a database that exists, the restore creates nothing and notes nothing.
    const second = noting()
    await plugin.restore(ep(fresh), Readable.from([dump]), second)
    expect(second.notes).toEqual([])
    const undo = testContext()
    await plugin.undoRestore!(ep(src), { database: fresh }, undo)
    expect(rows(`SHOW DATABASES LIKE '${fresh}'`)).toEqual([])
    expect(undo.lines.join('\n')).toContain(`dropped database ${fresh} on 127.0.0.1:3306`)
    await plugin.undoRestore!(ep(src), { database: fresh }, undo)
    expect(undo.lines.at(-1)).toMatch(/already gone$/)
    expect(rows(`SHOW DATABASES LIKE '${src}'`)).toEqual([[src]])
  })

  it('describes the server and the database', async () => {
    const line = await plugin.test(ep(src), testContext())
    expect(line).toMatch(
      new RegExp(
        `^connected to (MariaDB|MySQL) \\d+\\.\\d+\\.\\d+, database ${src} \\(3 tables, \\d+\\.\\d MB\\)$`,
      ),
    )
  })

  it('reports a refused password without revealing it', async () => {
    const wrong = `not-${fx.password}`
    const e = ep(src, { password: wrong })
    const expected = `MySQL refused the password for user ${fx.user} on 127.0.0.1:3306`
    const ctx = testContext()
    for (const err of [
      await rejection(plugin.test(e, ctx)),
      await rejection(backupBytes(e)),
      await rejection(plugin.restore(e, Readable.from([dump]), ctx)),
    ]) {
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toBe(expected)
      expect((err as PluginError).kind).toBe('permanent')
    }
    expect(ctx.lines.join('\n')).not.toContain(wrong)
    expect(ctx.lines.join('\n')).not.toContain(fx.password.trim())
  })

  it('reports an unreachable server as transient', async () => {
    const port = await freePort()
    for (const err of [
      await rejection(plugin.test(ep(src, { port }), testContext())),
      await rejection(backupBytes(ep(src, { port }))),
    ]) {
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toMatch(new RegExp(`^cannot reach MySQL at 127\\.0\\.0\\.1:${port}: .+`))
      expect((err as PluginError).kind).toBe('transient')
    }
  })

  it('reports an unknown database', async () => {
    const missing = fx.db('missing')
    const asRoot = ep(missing, { user: 'root', password: '' })
    const expected = `database ${missing} does not exist on 127.0.0.1:3306`
    expect((await rejection(plugin.test(asRoot, testContext()))).message).toBe(expected)
    expect((await rejection(backupBytes(asRoot))).message).toBe(expected)
  })

  it('fails a restore loudly with the client message, leaving no option file', async () => {
    const dirs = optionDirs()
    const target = fx.db('broken')
    const sql = 'CREATE TABLE ok (i INT);\nCREATE TABLE broken (;\n-- Dump completed\n'
    const bad = Readable.from([Buffer.from(sql)])
    const err = await rejection(plugin.restore(ep(target), bad, testContext()))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(
      new RegExp(`^restore into database ${target} failed: ERROR 1064 \\(42000\\) at line 2: `),
    )
    expect(optionDirs()).toEqual(dirs)
    const broken = new Readable({
      read() {
        this.push(dump.subarray(0, 4096))
        this.destroy(new Error('archive broke off'))
      },
    })
    const cut = await rejection(plugin.restore(ep(target), broken, testContext()))
    expect(cut.message).toBe('archive broke off')
    // Cut at a statement boundary, the SQL itself is valid: the missing last line gives it away.
    const end = dump.lastIndexOf('\nUNLOCK TABLES;\n') + 16
    const clean = await rejection(
      plugin.restore(ep(target), Readable.from([dump.subarray(0, end)]), testContext()),
    )
    expect(clean).toBeInstanceOf(PluginError)
    expect(clean.message).toMatch(/^the backup is incomplete/)
    expect(optionDirs()).toEqual(dirs)
  })

  it('keeps the password out of argv and removes its 0600 option file after the run', async () => {
    const release = await holdLock(src, 'items')
    let released = false
    try {
      const stream = await plugin.backup(ep(src), testContext())
      const reading = readAll(stream)
      const proc = await waitFor('the dump process', () => dumpProcess(src))
      const file = /--defaults-extra-file=(\S+)/.exec(proc.args)?.[1] ?? ''
      expect(proc.args.split(' ')[1]).toBe(`--defaults-extra-file=${file}`)
      const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8')
      const environ = readFileSync(`/proc/${proc.pid}/environ`, 'utf8')
      for (const seen of [proc.args, cmdline, environ, execFileSync('ps', ['-ef']).toString()]) {
        expect(seen).not.toContain(fx.password.trim())
      }
      expect(environ).not.toMatch(/(^|\0)MYSQL_PWD=/)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(statSync(dirname(file)).mode & 0o777).toBe(0o700)
      expect(readFileSync(file, 'utf8')).toContain(`password=${optionValue(fx.password)}`)
      await release()
      released = true
      expect((await reading).toString('utf8')).toMatch(/\n-- Dump completed on [^\n]+\n?$/)
      await waitFor('the option file to go', () => (existsSync(file) ? undefined : true))
      expect(existsSync(dirname(file))).toBe(false)
    } finally {
      if (!released) await release()
    }
  })

  it('removes the option file and stops the dump when aborted', async () => {
    const release = await holdLock(src, 'items')
    try {
      const ctx = testContext()
      const reading = readAll(await plugin.backup(ep(src), ctx)).catch((err: unknown) => err)
      const proc = await waitFor('the dump process', () => dumpProcess(src))
      const file = /--defaults-extra-file=(\S+)/.exec(proc.args)?.[1] ?? ''
      expect(existsSync(file)).toBe(true)
      ctx.controller.abort()
      expect(await reading).toBeInstanceOf(PluginAbortedError)
      await waitFor('the option file to go', () => (existsSync(file) ? undefined : true))
      await waitFor('the dump to stop', () => (dumpProcess(src) ? undefined : true))
    } finally {
      await release()
    }
  })
})

describe.skipIf(!available)(
  'target mysql: a server that accepts connections and never answers',
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

    const quiet = () => ep(fx.db('silent'), { port, connect_timeout: 2 })
    /** Client tools still running against the silent server. */
    const clients = () =>
      execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(`--port=${port}`))

    const runs: [string, () => Promise<unknown>][] = [
      ['test()', () => plugin.test(quiet(), testContext())],
      ['backup()', () => backupBytes(quiet())],
      [
        'restore()',
        () =>
          plugin.restore(quiet(), Readable.from([Buffer.from('-- Dump completed\n')]), noting()),
      ],
    ]
    it.each(runs)(
      '%s fails after connect_timeout, naming the server, its tool gone',
      async (_, run) => {
        const started = Date.now()
        const err = await rejection(run())
        const elapsed = Date.now() - started
        expect(err).toBeInstanceOf(PluginError)
        expect(err.message).toMatch(
          new RegExp(`^MySQL at 127\\.0\\.0\\.1:${port} did not answer within 2 s`),
        )
        expect((err as PluginError).kind).toBe('transient')
        expect(elapsed).toBeGreaterThanOrEqual(1900)
        expect(elapsed).toBeLessThan(10_000)
        expect(clients()).toEqual([])
      },
    )
  },
)
