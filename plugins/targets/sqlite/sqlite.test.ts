// Tests of the `sqlite` target on real files and real processes: a backup taken
// while another process keeps writing is one consistent snapshot; restores
// are verified, atomic, refused while the database is in use, and never leave
// temporary files behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { TargetPlugin } from '../../sdk/types'
import { loadPlugin, readAll, testContext } from '../../sdk/conformance/services'
import { targetConformance } from '../../sdk/conformance/target-suite'

const driver = createRequire(import.meta.url).resolve('better-sqlite3')
let plugin: TargetPlugin
let base: string
let dir: string
let tempRoot: string
const children: ChildProcess[] = []
const savedTmp = process.env.TMPDIR

/** The directory's entries, but the -wal/-shm files SQLite itself makes and removes. */
const entries = async (path: string) =>
  (await readdir(path)).filter((name) => !/-(wal|shm)$/.test(name)).sort()
const sha = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
const ctx = () => testContext()
const backupOf = async (path: string) => readAll(await plugin.backup({ path }, ctx()))
const restoreTo = (path: string, data: Buffer | Readable, c = ctx()) =>
  plugin.restore({ path }, Buffer.isBuffer(data) ? Readable.from([data]) : data, c)
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: Error) => err,
  )
}

const SCHEMA = `
  PRAGMA journal_mode = WAL;
  CREATE TABLE a (id INTEGER PRIMARY KEY, data BLOB NOT NULL, tag TEXT);
  CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a(id));
  CREATE TABLE counter (n INTEGER NOT NULL);
  INSERT INTO counter VALUES (0);
  CREATE INDEX a_tag ON a(tag);
  CREATE VIEW pairs AS SELECT a.id, a.tag, b.id AS b_id FROM a JOIN b ON b.a_id = a.id;
  CREATE TRIGGER a_count AFTER INSERT ON a BEGIN UPDATE counter SET n = n + 1; END;`

/** One transaction: rows in a and b together (the trigger counts a), so count(a) = count(b) = n. */
const WRITE = `
  const Database = require(process.argv[1]); const db = new Database(process.argv[2]);
  db.pragma('busy_timeout = 10000');
  const ia = db.prepare('INSERT INTO a (data, tag) VALUES (?, ?)');
  const ib = db.prepare('INSERT INTO b (a_id) VALUES (?)');
  const tx = db.transaction((k) => { for (let i = 0; i < k; i++) ib.run(ia.run(require('crypto').randomBytes(1500), 't' + (i % 97)).lastInsertRowid) });`

function makeDb(file: string, rows: number): void {
  const db = new Database(file)
  db.exec(SCHEMA)
  db.close()
  runNode(`${WRITE} tx(${rows}); db.close()`, file)
}

function runNode(code: string, file: string): void {
  const r = spawnSync(process.execPath, ['-e', code, driver, file])
  if (r.status !== 0) throw new Error(String(r.stderr))
}

/** A node child using better-sqlite3 on file; resolves once it printed "ready". */
async function startChild(code: string, file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', code, driver, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve())
    child.once('exit', (c) => reject(new Error(`child exited with ${c}`)))
  })
  return child
}

/** Per table: its row count and a digest of every row in rowid order (BLOBs included). */
const rowsOf = (file: string) => {
  const db = new Database(file, { readonly: true })
  try {
    const tables = ['a', 'b', 'counter', 'sqlite_schema']
    return Object.fromEntries(
      tables.map((t) => {
        const hash = createHash('sha256')
        const rows = db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw().all() as unknown[][]
        for (const row of rows) {
          for (const v of row) hash.update(Buffer.isBuffer(v) ? v : `${typeof v}:${String(v)}|`)
        }
        return [t, `${rows.length} rows ${hash.digest('hex')}`]
      }),
    )
  } finally {
    db.close()
  }
}

function checkSnapshot(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    db.exec('BEGIN') // one snapshot for the counts below
    const one = (sql: string) => db.prepare(sql).pluck().get() as number
    const n = one('SELECT n FROM counter')
    expect(one('SELECT count(*) FROM a')).toBe(n)
    expect(one('SELECT count(*) FROM b')).toBe(n)
    expect(one('SELECT count(*) FROM pairs')).toBe(n)
    return n
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  plugin = await loadPlugin('target', 'sqlite')
  base = await mkdtemp(join(tmpdir(), 'bulwark-sqlite-test-'))
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})
beforeEach(async () => {
  dir = await mkdtemp(join(base, 'db-'))
  tempRoot = await mkdtemp(join(base, 'tmp-'))
  process.env.TMPDIR = tempRoot // where backups make their private copy
})
afterEach(async () => {
  process.env.TMPDIR = savedTmp
  for (const c of children.splice(0)) c.kill('SIGKILL')
  expect(await readdir(tempRoot)).toEqual([]) // no copy left behind
})

describe('target sqlite', () => {
  for (const mode of ['wal', 'delete']) {
    it(`backs up a consistent snapshot while another process keeps writing (${mode} mode)`, async () => {
      const file = join(dir, 'live.db')
      makeDb(file, 20_000)
      runNode(`${WRITE} db.pragma('journal_mode = ${mode}'); db.close()`, file)
      const writer = await startChild(
        `${WRITE} tx(5); console.log('ready'); setInterval(() => tx(20), 1)`,
        file,
      )
      const count = () => checkSnapshot(file)
      const before = count()
      const data = await backupOf(file)
      const after = count()
      const copy = join(dir, 'copy.db')
      await writeFile(copy, data)
      const snap = checkSnapshot(copy)
      // WAL: the writer commits while the copy is taken; rollback journal: it waits.
      if (mode === 'wal') expect(after).toBeGreaterThan(before)
      expect(snap).toBeGreaterThanOrEqual(before)
      expect(snap).toBeLessThanOrEqual(after)
      expect(writer.exitCode).toBeNull()
    })
  }

  it('restores into a new path with identical rows, mode 0600, then over an idle one keeping its mode', async () => {
    const file = join(dir, 'src.db')
    makeDb(file, 500)
    const data = await backupOf(file)
    const target = join(dir, 'restored.db')
    const c = ctx()
    await restoreTo(target, data, c)
    expect(rowsOf(target)).toEqual(rowsOf(file))
    expect((await stat(target)).mode & 0o777).toBe(0o600)
    expect(c.lines.join('\n')).toMatch(/restored .*restored\.db/)

    // It diverges, and its writer dies leaving committed frames in the -wal,
    // which must not end up applied to the restored file.
    const crash = `${WRITE} db.pragma('wal_autocheckpoint = 0'); tx(50); process.kill(process.pid, 'SIGKILL')`
    expect(spawnSync(process.execPath, ['-e', crash, driver, target]).signal).toBe('SIGKILL')
    expect((await stat(`${target}-wal`)).size).toBeGreaterThan(50 * 1500)
    await chmod(target, 0o640)
    await restoreTo(target, data)
    expect(rowsOf(target)).toEqual(rowsOf(file))
    expect((await stat(target)).mode & 0o777).toBe(0o640)
    expect(await entries(dir)).toEqual(['restored.db', 'src.db'])
  })

  const holders = [
    ['holding BEGIN EXCLUSIVE', 'wal', `db.exec('BEGIN EXCLUSIVE')`, /locked by another process/],
    [
      'with an idle WAL connection',
      'wal',
      `db.prepare('SELECT 1 FROM a').get()`,
      /locked by another/,
    ],
    [
      'in a read transaction',
      'delete',
      `db.exec('BEGIN'); db.prepare('SELECT 1 FROM a').get()`,
      /locked by another/,
    ],
    [
      'idle, rollback journal',
      'delete',
      `db.prepare('SELECT 1 FROM a').get()`,
      /open in process \d+/,
    ],
  ] as const
  for (const [what, mode, hold, message] of holders) {
    it(`refuses to restore over a database another process has open (${what})`, async () => {
      const file = join(dir, 'app.db')
      makeDb(file, 100)
      const data = await backupOf(file)
      runNode(`${WRITE} db.pragma('journal_mode = ${mode}'); tx(3); db.close()`, file)
      await startChild(`${WRITE} ${hold}; console.log('ready'); setInterval(() => {}, 1000)`, file)
      const files = (await readdir(dir)).sort()
      const hash = await sha(file)
      const err = await rejection(restoreTo(file, data))
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toContain(`the database ${file} is in use`)
      expect(err.message).toMatch(message)
      expect(err.message).toContain('stop the application using it and restore again')
      expect(await sha(file)).toBe(hash)
      expect((await readdir(dir)).sort()).toEqual(files)
    })
  }

  it('refuses truncated, garbage and failing data, leaving the database untouched', async () => {
    const file = join(dir, 'keep.db')
    makeDb(file, 300)
    const data = await backupOf(file)
    const hash = await sha(file)
    const bad: [string, Buffer | Readable, RegExp][] = [
      ['half', data.subarray(0, Math.floor(data.length / 2) + 7), /truncated/],
      ['whole pages', data.subarray(0, 8 * 4096), /truncated/],
      ['garbage', randomBytes(64 * 1024), /not a valid SQLite database/],
      ['text', Buffer.from('hello, not a database\n'), /not a valid SQLite database/],
      ['empty', Buffer.alloc(0), /it is empty/],
      [
        'failing',
        Readable.from(
          (async function* () {
            yield data.subarray(0, 65536)
            throw new Error('the vault said no')
          })(),
        ),
        /the vault said no/,
      ],
    ]
    for (const [what, input, message] of bad) {
      const err = await rejection(restoreTo(file, input))
      expect(err, what).toBeInstanceOf(PluginError)
      expect(err.message, what).toMatch(message)
      expect(err.message, what).toContain(`${file} was left untouched`)
      expect(await sha(file), what).toBe(hash)
      expect(await entries(dir), what).toEqual(['keep.db'])
    }
    // and into a new path, nothing appears
    const fresh = join(dir, 'fresh.db')
    const err = await rejection(restoreTo(fresh, data.subarray(0, 5000)))
    expect(err.message).toContain(`nothing was written to ${fresh}`)
    expect(await entries(dir)).toEqual(['keep.db'])
  })

  it('aborts a backup and a restore without leaving anything behind', async () => {
    const file = join(dir, 'big.db')
    makeDb(file, 30_000)
    const hash = await sha(file)
    const c1 = ctx()
    const pending = plugin.backup({ path: file }, c1)
    setTimeout(() => c1.controller.abort(), 20)
    expect(await rejection(pending)).toBeInstanceOf(PluginAbortedError)

    const c2 = ctx()
    const stream = await plugin.backup({ path: file }, c2)
    const chunks = stream[Symbol.asyncIterator]()
    expect((await chunks.next()).done).toBe(false)
    c2.controller.abort()
    expect(await rejection(readAll(stream))).toBeInstanceOf(PluginAbortedError)

    const c3 = ctx()
    const input = new PassThrough()
    input.write(await readFile(file).then((b) => b.subarray(0, 1 << 20)))
    const restoring = restoreTo(file, input, c3)
    setTimeout(() => c3.controller.abort(), 50)
    expect(await rejection(restoring)).toBeInstanceOf(PluginAbortedError)
    expect(await sha(file)).toBe(hash)
    expect(await entries(dir)).toEqual(['big.db'])
  })

  it('describes the database, and says clearly what is wrong with a bad path', async () => {
    const file = join(dir, 'desc.db')
    makeDb(file, 10)
    expect(await plugin.test({ path: file }, ctx())).toMatch(
      new RegExp(`^SQLite 3\\.\\d+\\.\\d+ database ${file}: 3 tables, \\d+ KiB$`),
    )
    const missing = join(dir, 'missing.db')
    for (const call of [plugin.test, plugin.backup]) {
      expect((await rejection(call({ path: missing }, ctx()))).message).toBe(
        `no SQLite database at ${missing}`,
      )
    }
    const text = join(dir, 'notes.txt')
    await writeFile(text, 'this is not a database, just some text that is long enough\n'.repeat(10))
    for (const call of [plugin.test, plugin.backup]) {
      expect((await rejection(call({ path: text }, ctx()))).message).toBe(
        `${text} is not an SQLite database`,
      )
    }
    expect((await rejection(plugin.test({ path: 'rel.db' }, ctx()))).message).toMatch(/absolute/)
    if (process.getuid?.() !== 0) {
      await chmod(file, 0o000)
      expect((await rejection(plugin.backup({ path: file }, ctx()))).message).toMatch(
        /permission denied to read/,
      )
    }
  })
})

let restores = 0
targetConformance('sqlite', {
  endpoint: async () => ({ path: join(base, 'conformance.db') }),
  restoreEndpoint: async () => ({ path: join(base, `restored-${++restores}.db`) }),
  seed: async () => makeDb(join(base, 'conformance.db'), 5000), // about 8 MiB
  snapshot: async (endpoint) => rowsOf(endpoint.path as string),
  mutate: async () => runNode(`${WRITE} tx(3); db.close()`, join(base, 'conformance.db')),
  badEndpoint: async () => ({ path: join(base, 'no-such.db') }),
  spawnsTools: false,
})
