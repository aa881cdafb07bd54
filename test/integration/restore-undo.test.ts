// A failed restore, against the built daemon over HTTP: it ends only after
// both sides have stopped and the target has cleaned up, it reports the
// cause (a full disk, a database in use, a damaged archive), not the other
// side's "aborted" or "premature close", and a database it created is gone
// afterwards, even when the daemon was SIGKILLed mid-restore (it is dropped
// at the next start).
import { execFileSync, spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import { startDaemon, tempDir, waitForLog, type RunningDaemon } from '../helpers/daemon'
import { startS3Gate, type S3Gate } from '../helpers/s3-gate'
import { startS3Server, type S3TestServer } from '../helpers/s3-server'
import {
  createDb,
  dropDb,
  mariadbAvailable,
  mysql,
  postgresAvailable,
  psql,
  randomDbName,
  toolAvailable,
} from '../helpers/services'
import { waitForTask } from '../helpers/tasks'
import { VaultBench, chunkPaths, randomTree } from '../helpers/vault-bench'
import { skipTest } from '../helpers/skip'
import { waitFor } from '../helpers/wait'

const running: RunningDaemon[] = []
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop()
})

async function daemon(dataDir?: string): Promise<VaultBench> {
  const d = await startDaemon({ dataDir })
  running.push(d)
  return new VaultBench(d)
}

/** SIGKILLs the daemon and waits for it to be gone. */
async function kill(b: VaultBench): Promise<void> {
  const gone = new Promise((r) => b.d.child.once('exit', r))
  b.d.child.kill('SIGKILL')
  await gone
  running.splice(running.indexOf(b.d), 1)
}

const mounted: string[] = []
afterAll(() => {
  for (const dir of mounted.splice(0)) execFileSync('umount', [dir])
})

/** A new 1 MiB tmpfs, so a restore into it runs out of space; undefined where mounting is not allowed. */
function smallDisk(t: TestContext): string | undefined {
  const dir = tempDir('bulwark-full-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    mounted.push(dir)
    return dir
  } catch {
    skipTest(t, 'a 1 MiB tmpfs to fill (mount -t tmpfs failed)', 'run the tests as root')
    return undefined
  }
}

/**
 * Polls the task as fast as the API answers until it has ended, then at once
 * takes `look()`: what the target looks like at the moment it is reported
 * failed, so a cleanup still running after that shows.
 */
async function whenEnded<T>(b: VaultBench, uuid: string, look: () => T) {
  const deadline = Date.now() + 60_000
  for (;;) {
    const task = (await b.d.api('GET', `/v1/task/${uuid}`)).body
    if (!['pending', 'running'].includes(task.status)) return { task, seen: look() }
    if (Date.now() > deadline) throw new Error(`task ${uuid} still ${task.status}:\n${task.log}`)
    await new Promise((r) => setImmediate(r))
  }
}

async function startRestore(b: VaultBench, archive: string, target: string): Promise<string> {
  const res = await b.d.api('POST', `/v1/archive/${archive}/restore`, { target })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.task_uuid
}

/** Waits until the task's log has a line matching re; fails if it ends without one. */
async function waitForTaskLog(b: VaultBench, uuid: string, re: RegExp): Promise<any> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const task = (await b.d.api('GET', `/v1/task/${uuid}`)).body
    if (re.test(task.log)) return task
    if (!['pending', 'running'].includes(task.status) || Date.now() > deadline)
      throw new Error(`task ${uuid} (${task.status}) never logged ${re}:\n${task.log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The undo notes in the daemon's catalog (read beside it, or after it died). */
function undoNotes(dataDir: string): { task_uuid: string; plugin: string; note: string }[] {
  const db = new Database(join(dataDir, 'catalog.db'), { readonly: true, fileMustExist: true })
  try {
    return db.prepare('SELECT * FROM restore_undo ORDER BY id').all() as never
  } finally {
    db.close()
  }
}

const CONSEQUENCE = /aborted|premature close|canceled/i

describe('a restore into a directory that fails', () => {
  it('on a full disk ends failed with ENOSPC as the cause, once the directory is cleaned up', async (t) => {
    const disk = smallDisk(t)
    if (!disk) return
    const b = await daemon()
    const store = await b.store({ path: tempDir('bulwark-store-') })
    // 2,000 files of 2 KiB: far more than the 1 MiB disk holds.
    const job = await b.job(store, randomTree(2000, 2048))
    const archive = await b.goodBackup(job)
    const dest = join(disk, 'out')
    const task = await startRestore(b, archive.uuid, await b.target(dest))
    const { task: ended, seen } = await whenEnded(b, task, () => readdirSync(disk))
    expect(ended.status, ended.log).toBe('failed')
    expect(ended.error).toMatch(/no space left on (the )?device/i)
    expect(ended.error).not.toMatch(CONSEQUENCE)
    expect(ended.log).toMatch(/RESTORE FAILED: .*no space left on/i)
    // The directory the restore created was removed before the task said failed.
    expect(seen).toEqual([])
    expect(existsSync(dest)).toBe(false)
  })

  it('because its archive is damaged near the end names the damage, once tar has stopped and the directory is emptied', async () => {
    const b = await daemon()
    const storeDir = tempDir('bulwark-store-')
    const store = await b.store({ path: storeDir })
    const job = await b.job(store, randomTree(3000, 1024))
    const archive = await b.goodBackup(job)
    // The chunk written last holds the end of the tar stream: flip one of its bytes.
    const last = chunkPaths(storeDir)
      .map((path) => ({ path, at: statSync(path, { bigint: true }).mtimeNs }))
      .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0))
      .at(-1)!.path
    const bytes = readFileSync(last)
    bytes[bytes.length - 20]! ^= 0xff
    writeFileSync(last, bytes)

    const dest = join(tempDir('bulwark-restore-'), 'out')
    mkdirSync(dest) // an empty directory: emptied again on failure, not removed
    const task = await startRestore(b, archive.uuid, await b.target(dest))
    const { task: ended, seen } = await whenEnded(b, task, () => readdirSync(dest))
    expect(ended.status, ended.log).toBe('failed')
    expect(ended.error).toMatch(/chunk [0-9a-f]+ \(#\d+ of \d+\)/)
    expect(ended.error).not.toMatch(CONSEQUENCE)
    expect(seen).toEqual([])
  })
})

describe('a restore into an SQLite database', () => {
  const sqlite = toolAvailable('sqlite3', ['-version'], 'apt-get install sqlite3')
  let b: VaultBench
  let archive: string
  let dir: string
  beforeAll(async () => {
    if (!sqlite) return
    b = new VaultBench(await startDaemon()) // for both tests (the others' afterEach stops theirs)
    dir = tempDir('bulwark-sqlite-')
    const db = join(dir, 'app.db')
    execFileSync('sqlite3', [
      db,
      'CREATE TABLE t (b BLOB); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300) INSERT INTO t SELECT randomblob(10000) FROM c;',
    ])
    const store = await b.store({ path: tempDir('bulwark-store-') })
    const schedule = await b.created('/v1/schedules', { name: 'n', when: 'daily at 4am' })
    const retention = await b.created('/v1/retention', { name: 'w', expires: 86400 })
    const target = await sqliteTarget(db)
    const job = await b.created('/v1/jobs', { name: 'j', target, store, schedule, retention })
    archive = (await b.goodBackup(job)).uuid
  })
  afterAll(() => b?.d.stop())
  const sqliteTarget = (path: string) =>
    b.created('/v1/targets', { name: `db ${path}`, plugin: 'sqlite', endpoint: { path } })

  it.skipIf(!sqlite)(
    'held by another process reports that it is in use, not a premature close',
    async () => {
      const db = join(dir, 'held.db')
      copyFileSync(join(dir, 'app.db'), db)
      const holder = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'ignore'] })
      try {
        holder.stdin.write("BEGIN EXCLUSIVE; SELECT 'held';\n")
        await new Promise((r) => holder.stdout.once('data', r))
        const before = readFileSync(db)
        const task = await startRestore(b, archive, await sqliteTarget(db))
        const { task: ended, seen } = await whenEnded(b, task, () => readdirSync(dir))
        expect(ended.status, ended.log).toBe('failed')
        expect(ended.error).toMatch(/database .*held\.db is in use/)
        expect(ended.error).not.toMatch(CONSEQUENCE)
        // No temporary copy left beside it, and the database is untouched.
        expect(seen.filter((f) => f.includes('bulwark-restore'))).toEqual([])
        expect(readFileSync(db).equals(before)).toBe(true)
      } finally {
        holder.kill()
      }
    },
  )

  it.skipIf(!sqlite)(
    'on a full disk says so in its own words, once its temporary copy is removed',
    async (t) => {
      const disk = smallDisk(t)
      if (!disk) return
      const task = await startRestore(b, archive, await sqliteTarget(join(disk, 'app.db')))
      const { task: ended, seen } = await whenEnded(b, task, () => readdirSync(disk))
      expect(ended.status, ended.log).toBe('failed')
      // The plugin's explanation, not the raw ENOSPC the stream between them was destroyed with.
      expect(ended.error).toMatch(/^no space left on the device to write a temporary file in /)
      expect(seen).toEqual([])
    },
  )
})

/** Runs `seed` into a new database and backs it up through the gate; the archive. */
async function databaseArchive(
  b: VaultBench,
  store: string,
  plugin: 'postgres' | 'mysql',
  database: string,
): Promise<{ uuid: string; chunk_count: number }> {
  const target = await b.created('/v1/targets', {
    name: `${plugin} ${database}`,
    plugin,
    endpoint: { database },
  })
  const schedule = await b.created('/v1/schedules', { name: `s ${database}`, when: 'daily at 4am' })
  const retention = await b.created('/v1/retention', { name: `r ${database}`, expires: 86400 })
  const job = await b.created('/v1/jobs', {
    name: `j ${database}`,
    target,
    store,
    schedule,
    retention,
  })
  return b.goodBackup(job)
}

interface Engine {
  plugin: 'postgres' | 'mysql'
  available: boolean
  /** Creates a database and fills it with a few MiB of random text: its dump spans several chunks. */
  seed(name: string): void
  exists(name: string): boolean
  drop(name: string): void
}

const engines: Engine[] = [
  {
    plugin: 'postgres',
    available: postgresAvailable(),
    seed(name) {
      createDb(name)
      psql(
        name,
        'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 30000) g;',
      )
    },
    exists: (name) =>
      psql('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === '1',
    drop: dropDb,
  },
  {
    plugin: 'mysql',
    available: mariadbAvailable(),
    seed(name) {
      mysql(`CREATE DATABASE ${name}`)
      mysql(
        'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200)); INSERT INTO t SELECT seq, CONCAT(MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND())) FROM seq_1_to_30000',
        name,
      )
    },
    exists: (name) =>
      mysql(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${name}'`) ===
      '1',
    drop: (name) => mysql(`DROP DATABASE IF EXISTS ${name}`),
  },
]

for (const engine of engines) {
  describe.skipIf(!engine.available)(
    `${engine.plugin}: a database a restore created`,
    { timeout: 120_000 },
    () => {
      let s3: S3TestServer
      let gate: S3Gate
      const dbs: string[] = []
      const newName = () => {
        const name = randomDbName('bulwark_undo')
        dbs.push(name)
        return name
      }
      const isChunkGet = (r: { method: string; url: string }) =>
        r.method === 'GET' && r.url.includes('/chunks/')
      /**
       * Lets the archive's first chunk through (a plugin may read the start of
       * the dump before it creates the database) and holds the rest: the
       * restore then waits, mid-way, with the database created.
       */
      const holdAfterFirstChunk = () => {
        let gets = 0
        gate.rule = (r) => (isChunkGet(r) && gets++ > 0 ? 'hold' : 'pass')
      }

      beforeAll(async () => {
        s3 = await startS3Server()
        gate = await startS3Gate(s3)
      })
      afterAll(async () => {
        await gate?.stop()
        await s3?.stop()
        for (const db of dbs) engine.drop(db)
      })
      afterEach(() => gate.release())

      /** A daemon, an S3 store behind the gate, and an archive of a seeded database. */
      async function setup(dataDir?: string) {
        const b = await daemon(dataDir)
        const store = await b.store(
          gate.storeEndpoint({ prefix: `undo-${randomBytes(4).toString('hex')}` }),
        )
        const source = newName()
        engine.seed(source)
        const archive = await databaseArchive(b, store, engine.plugin, source)
        expect(archive.chunk_count).toBeGreaterThan(1)
        return { b, archive }
      }

      const targetFor = (b: VaultBench, database: string) =>
        b.created('/v1/targets', {
          name: `${engine.plugin} ${database}`,
          plugin: engine.plugin,
          endpoint: { database },
        })

      it('is kept when the restore succeeds, and dropped when it fails', async () => {
        const { b, archive } = await setup()
        // Succeeds: the new database is the restored one, and no note is left to undo it.
        const kept = newName()
        const ok = await startRestore(b, archive.uuid, await targetFor(b, kept))
        const done = await waitForTask(b.d, ok)
        expect(done.status, done.log).toBe('done')
        expect(engine.exists(kept)).toBe(true)
        expect(undoNotes(b.d.dataDir)).toEqual([])

        // Fails once the database exists: the archive's chunks cannot be read.
        const lost = newName()
        holdAfterFirstChunk()
        const task = await startRestore(b, archive.uuid, await targetFor(b, lost))
        await waitForTaskLog(b, task, /created database/)
        expect(engine.exists(lost)).toBe(true)
        expect(undoNotes(b.d.dataDir).map((n) => n.task_uuid)).toEqual([task])
        gate.rule = (r) => (isChunkGet(r) ? { status: 403, code: 'AccessDenied' } : 'pass')
        gate.dropHeld()
        const failed = await waitForTask(b.d, task)
        expect(failed.status, failed.log).toBe('failed')
        expect(failed.error).toMatch(/chunk .* could not be read/)
        expect(failed.error).not.toMatch(CONSEQUENCE)
        // Ended only once the database was dropped again (by the plugin or the daemon).
        expect(failed.log).toMatch(/dropped database/)
        expect(engine.exists(lost)).toBe(false)
        expect(undoNotes(b.d.dataDir)).toEqual([])
        expect(engine.exists(kept)).toBe(true)
      })

      it('is dropped when the restore is canceled', async () => {
        const { b, archive } = await setup()
        const lost = newName()
        holdAfterFirstChunk()
        const task = await startRestore(b, archive.uuid, await targetFor(b, lost))
        await waitForTaskLog(b, task, /created database/)
        expect((await b.d.api('DELETE', `/v1/task/${task}`)).status).toBe(200)
        const ended = await waitForTask(b.d, task)
        expect(ended.status, ended.log).toBe('canceled')
        expect(ended.log).toMatch(/dropped database/)
        expect(engine.exists(lost)).toBe(false)
        expect(undoNotes(b.d.dataDir)).toEqual([])
      })

      it('is dropped at the next start when the daemon was killed mid-restore', async () => {
        const dataDir = tempDir()
        const { b, archive } = await setup(dataDir)
        const lost = newName()
        holdAfterFirstChunk()
        const task = await startRestore(b, archive.uuid, await targetFor(b, lost))
        await waitForTaskLog(b, task, /created database/)
        await kill(b)
        gate.dropHeld()
        gate.release()
        // The killed daemon left the database, and the note saying it made it.
        expect(engine.exists(lost)).toBe(true)
        expect(undoNotes(dataDir)).toMatchObject([
          { task_uuid: task, plugin: engine.plugin, note: JSON.stringify({ database: lost }) },
        ])

        const again = await daemon(dataDir)
        await waitForLog(again.d, new RegExp(`restore ${task}: dropped database ${lost}`))
        expect(engine.exists(lost)).toBe(false)
        expect(undoNotes(dataDir)).toEqual([])
        const orphan = (await again.d.api('GET', `/v1/task/${task}`)).body
        expect(orphan.status).toBe('failed')
        expect(orphan.log).toMatch(/after a restart of the daemon: dropped database/)
      })
    },
  )
}

describe.skipIf(!engines[0]!.available)('notes left at start that cannot be undone now', () => {
  it('are kept when the undo fails, and forgotten when their target was deleted', async () => {
    const dataDir = tempDir()
    let b = await daemon(dataDir)
    // A target on a port where no server answers: its undo fails at once.
    const unreachable = await b.created('/v1/targets', {
      name: 'nowhere',
      plugin: 'postgres',
      endpoint: { database: 'whatever', port: 1 },
    })
    await b.d.stop()
    running.splice(running.indexOf(b.d), 1)
    const db = new Database(join(dataDir, 'catalog.db'))
    const insert = db.prepare(
      `INSERT INTO restore_undo (task_uuid, target_uuid, plugin, note, created_at) VALUES (?, ?, 'postgres', ?, 0)`,
    )
    insert.run('task-a', unreachable, JSON.stringify({ database: 'never_made_a' }))
    insert.run('task-b', 'no-such-target', JSON.stringify({ database: 'never_made_b' }))
    db.close()

    b = await daemon(dataDir)
    await waitForLog(b.d, /restore task-a: could not undo .*never_made_a.*next start/)
    await waitForLog(b.d, /restore task-b: target no-such-target was deleted/)
    // The note is forgotten just after that line is logged: wait for the catalog to say so.
    const left = () => undoNotes(dataDir).map((n) => n.task_uuid)
    await waitFor('task-b’s note to be forgotten', () => (left().length === 1 ? true : undefined))
    expect(left()).toEqual(['task-a'])
  })

  it("never undoes on this host what a restore created on an agent's host", async () => {
    const dataDir = tempDir()
    let b = await daemon(dataDir)
    // A database of the same name on this host, which an undo run here would drop.
    const [pg] = engines
    const name = randomDbName()
    createDb(name)
    try {
      await b.created('/v1/agents', { name: 'far' })
      const remote = await b.created('/v1/targets', {
        name: 'on-far',
        plugin: 'postgres',
        endpoint: { database: name },
        agent: 'far',
      })
      await b.d.stop()
      running.splice(running.indexOf(b.d), 1)
      const db = new Database(join(dataDir, 'catalog.db'))
      db.prepare(
        `INSERT INTO restore_undo (task_uuid, target_uuid, plugin, note, created_at) VALUES ('task-c', ?, 'postgres', ?, 0)`,
      ).run(remote, JSON.stringify({ database: name }))
      db.close()
      b = await daemon(dataDir)
      await waitForLog(b.d, /restore task-c: target .* runs on agent "far".*remove it by hand/)
      await waitFor('the note to be forgotten', () =>
        undoNotes(dataDir).length === 0 ? true : undefined,
      )
      expect(pg!.exists(name)).toBe(true)
    } finally {
      pg!.drop(name)
    }
  })
})
