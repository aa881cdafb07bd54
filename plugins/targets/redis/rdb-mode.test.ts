// Tests of the redis target's mode rdb against private redis-servers started
// here (test/fixtures/targets/redis-rdb.ts), each in its own temporary
// directory: a backup is the RDB file a fresh BGSAVE wrote (waiting for a save
// already running, bounded by save_timeout, canceled promptly); a restore
// replaces the server's file and restarts it through restart_command, and
// refuses, leaving the live file as it was, without restart_command, with AOF
// on, with save points and no stop_command, or with bytes that are not a whole
// RDB file; a failing restart (or one that does not restart) puts the previous
// file back, and a cancel after stop_command starts the server again.
import { chmod, copyFile, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError } from '../../sdk/errors'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import redisTarget from './index'
import * as fx from '../../../test/fixtures/targets/redis'
import { rdbServer, type RdbServer } from '../../../test/fixtures/targets/redis-rdb'
import { toolAvailable } from '../../../test/helpers/services'
import { waitFor } from '../../../test/helpers/wait'

const available = toolAvailable('redis-server', ['--version'], 'apt-get install redis-server')
const plugin = redisTarget.plugin as TargetPlugin

/** Every key of dbs 0 and 3: type, content digest and TTL. */
async function contents(s: RdbServer) {
  const out = new Map<string, fx.KeyState>()
  for (const db of [0, 3]) {
    const c = s.client(db)
    try {
      for (const [k, v] of await fx.snapshot(c)) out.set(`${db}/${k}`, v)
    } finally {
      c.disconnect()
    }
  }
  return out
}

async function on<T>(s: RdbServer, fn: (c: ReturnType<RdbServer['client']>) => Promise<T>) {
  const c = s.client()
  try {
    return await fn(c)
  } finally {
    c.disconnect()
  }
}

/** The directory's files other than the server's log and pid file. */
const files = async (s: RdbServer) =>
  (await readdir(s.dir)).filter((f) => !['redis.log', 'redis.pid', 'restart.sh'].includes(f)).sort()

/** What a refused restore must leave: the same files, the same bytes, the same server process. */
async function state(s: RdbServer) {
  return { files: await files(s), rdb: await readFile(s.rdb), pid: await s.pid() }
}

const restore = (ep: Endpoint, data: Buffer, ctx = testContext()) =>
  plugin.restore(ep, Readable.from([data]), ctx)

describe.skipIf(!available)('target redis: mode rdb', () => {
  let src: RdbServer
  let dst: RdbServer
  let archive: Buffer

  beforeAll(async () => {
    ;[src, dst] = await Promise.all([rdbServer(), rdbServer()])
    await on(src, (c) => fx.seed(c, { small: 500 }))
    const c3 = src.client(3)
    await c3.mset('db3:a', '1', 'db3:b', '2')
    await c3.set('db3:ttl', 'x', 'PX', 3_600_000)
    c3.disconnect()
  })
  afterAll(async () => {
    await Promise.all([src?.stop(), dst?.stop()])
  })

  /** dst with its own data saved in its RDB file, then one key only in memory. */
  const dstWithOwnData = async () => {
    await on(dst, async (c) => {
      await c.flushall()
      await c.set('old', 'dst data')
      await c.save()
      await c.set('memory-only', 'not saved')
    })
  }

  it('backs up every db as a fresh RDB file and restores it into another server through restart_command', async () => {
    const started = Date.now()
    const before = await contents(src)
    const ctx = testContext()
    archive = await readAll(await plugin.backup(src.endpoint(), ctx))
    expect(archive.subarray(0, 5).toString()).toBe('REDIS')
    const log = ctx.lines.join('\n')
    expect(log).toMatch(/every db, not only db 0/)
    expect(log).toMatch(
      /BGSAVE started; waiting until LASTSAVE moves on from \d+ and INFO persistence says rdb_bgsave_in_progress:0 \(at most 600 s, save_timeout\)/,
    )
    expect(log).toMatch(`streaming ${src.rdb}`)

    await dstWithOwnData()
    const oldFile = await readFile(dst.rdb)
    const pid = await dst.pid()
    const rctx = testContext()
    await restore(dst.endpoint({ restart_command: dst.restart }), archive, rctx)
    expect(await dst.pid()).not.toBe(pid)
    const after = await contents(dst)
    expect(fx.differences(before, after, Date.now() - started)).toEqual([])
    expect(await on(dst, (c) => c.exists('old', 'memory-only'))).toBe(0)
    // The previous file is kept beside the live one; no temporary file is left.
    const kept = (await files(dst)).filter((f) => f.startsWith('dump.rdb.before-restore-'))
    expect(kept).toHaveLength(1)
    expect(await readFile(join(dst.dir, kept[0]!))).toEqual(oldFile)
    expect((await files(dst)).filter((f) => f.includes('.bulwark-'))).toEqual([])
    const rlog = rctx.lines.join('\n')
    expect(rlog).toMatch(/replaces the whole dataset \(every db\)/)
    expect(rlog).toMatch(`the previous RDB file is kept as ${join(dst.dir, kept[0]!)}`)
    expect(rlog).toMatch(`running restart_command: ${dst.restart}`)
    expect(rlog).toMatch(/is up on the restored data: db0: keys=512.*db3: keys=3/)
  })

  it('refuses bytes that are not a whole RDB file, leaving the live file and the server as they were', async () => {
    await dstWithOwnData()
    const was = await state(dst)
    const ep = dst.endpoint({ restart_command: dst.restart })
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('not an RDB file at all'), /does not start with "REDIS" and a 4-digit version/],
      [
        archive.subarray(0, archive.length - 20),
        /does not end with the end-of-file mark: it is truncated/,
      ],
      [
        Buffer.from('BULWARK-REDIS\x02\x067.0.15'),
        /an archive of mode keys .* restore it with a target whose mode is keys/,
      ],
    ]
    for (const [data, why] of cases) {
      const err = await fx.rejection(restore(ep, data))
      expect(err.message).toMatch(/the archive is not a whole RDB file/)
      expect(err.message).toMatch(why)
      expect(await state(dst)).toEqual(was)
    }
    expect(await on(dst, (c) => c.exists('old', 'memory-only'))).toBe(2)
  })

  it('a cancel while the archive arrives leaves the live file as it was and no temporary file', async () => {
    await dstWithOwnData()
    const was = await state(dst)
    const ctx = testContext()
    // The head of an RDB file, then nothing more for as long as it takes.
    const data = new Readable({ read() {} })
    data.push(archive.subarray(0, 1000))
    const restoring = fx.rejection(
      plugin.restore(dst.endpoint({ restart_command: dst.restart }), data, ctx),
    )
    await waitFor('the archive to be received', async () =>
      (await readdir(dst.dir)).some((f) => f.includes('.bulwark-')) ? true : undefined,
    )
    ctx.controller.abort()
    expect(await restoring).toBeInstanceOf(PluginAbortedError)
    expect(await state(dst)).toEqual(was)
  })

  it('a restart command that fails gets the previous file put back and run again, and the restore fails saying so', async () => {
    await dstWithOwnData()
    const oldFile = await readFile(dst.rdb)
    const pid = await dst.pid()
    const failOnce = join(dst.dir, 'fail-once.sh')
    const marker = join(dst.dir, 'failed-once')
    await writeFile(
      failOnce,
      `#!/bin/sh\nif [ ! -e '${marker}' ]; then touch '${marker}'; echo "simulated failure" >&2; exit 3; fi\nexec '${dst.restart}'\n`,
    )
    await chmod(failOnce, 0o755)
    const filesBefore = await files(dst)
    const ctx = testContext()
    const err = await fx.rejection(
      restore(dst.endpoint({ restart_command: failOnce }), archive, ctx),
    )
    expect(err.message).toMatch(
      /^the restore failed and was undone: restart_command exited with code 3: simulated failure\. The previous RDB file is back as .*dump\.rdb and restart_command was run again, which succeeded: Redis runs on its previous data\. The archive was not restored$/,
    )
    expect(ctx.lines).toContain('restart_command: simulated failure')
    expect(await readFile(dst.rdb)).toEqual(oldFile)
    expect(await files(dst)).toEqual([...filesBefore, 'failed-once'].sort())
    // Restarted from the previous file: its key is there, the unsaved one is not.
    await waitFor('dst to be back', async () => ((await dst.pid()) !== pid ? true : undefined))
    await dst.ready()
    expect(await on(dst, (c) => c.exists('old'))).toBe(1)
    expect(await on(dst, (c) => c.exists('memory-only'))).toBe(0)
  })

  it('a restart command that does not restart the server gets the previous file put back', async () => {
    await dstWithOwnData()
    const oldFile = await readFile(dst.rdb)
    const pid = await dst.pid()
    const ep = dst.endpoint({ restart_command: 'true', save_timeout: 2 })
    const err = await fx.rejection(restore(ep, archive))
    expect(err.message).toMatch(
      /^the restore failed and was undone: restart_command finished, but Redis at 127\.0\.0\.1:\d+ still runs as before \(the same run_id\) after 2 s \(save_timeout\): it did not restart, so it did not load the restored file\. The previous RDB file is back as /,
    )
    expect(await readFile(dst.rdb)).toEqual(oldFile)
    expect(await dst.pid()).toBe(pid)
    expect(await on(dst, (c) => c.exists('old', 'memory-only'))).toBe(2)
  })

  it('without restart_command a restore fails before touching anything', async () => {
    await dstWithOwnData()
    const was = await state(dst)
    const err = await fx.rejection(restore(dst.endpoint(), archive))
    expect(err.message).toBe(
      'a restore in mode rdb needs restart_command: set it to the shell command that restarts this Redis on its host (such as systemctl restart redis-server), so it loads the restored file. Nothing was changed',
    )
    expect(await state(dst)).toEqual(was)
  })

  it('refuses a server with save points unless stop_command stops it first', async () => {
    await dstWithOwnData()
    await on(dst, (c) => c.config('SET', 'save', '3600 1'))
    const was = await state(dst)
    const err = await fx.rejection(restore(dst.endpoint({ restart_command: dst.restart }), archive))
    expect(err.message).toMatch(
      /saves its data when it stops \(save "3600 1"\), so restart_command would write the current data over the restored file: set stop_command/,
    )
    expect(await state(dst)).toEqual(was)
    // stop_command stops it before the file is replaced. This one returns at once, while
    // Redis still saves on its way out: the restore waits until it no longer answers.
    const stop = `kill $(cat '${join(dst.dir, 'redis.pid')}')`
    const ctx = testContext()
    await restore(dst.endpoint({ restart_command: dst.restart, stop_command: stop }), archive, ctx)
    expect(ctx.lines).toContain(`running stop_command: ${stop}`)
    expect(ctx.lines).toContain(`Redis at 127.0.0.1:${dst.port} is stopped`)
    expect(await on(dst, (c) => c.exists('old'))).toBe(0)
    expect(await on(dst, (c) => c.dbsize())).toBe(512)
  })

  it('a cancel after stop_command starts the server again on its own file', async () => {
    await dstWithOwnData()
    const was = await state(dst)
    const stop = `kill $(cat '${join(dst.dir, 'redis.pid')}'); sleep 30`
    const ctx = testContext()
    const restoring = fx.rejection(
      restore(dst.endpoint({ restart_command: dst.restart, stop_command: stop }), archive, ctx),
    )
    await waitFor('stop_command to stop the server', async () =>
      ctx.lines.includes(`running stop_command: ${stop}`) && !(await dst.pid()) ? true : undefined,
    )
    ctx.controller.abort()
    expect(await restoring).toBeInstanceOf(PluginAbortedError)
    expect(ctx.lines).toContain(
      'canceled after stop_command; nothing was replaced; restart_command was run to start it again on its own file, and succeeded',
    )
    await dst.ready()
    expect(await files(dst)).toEqual(was.files)
    expect(await readFile(dst.rdb)).toEqual(was.rdb)
    expect(await on(dst, (c) => c.exists('old', 'memory-only'))).toBe(1)
  })

  it('refuses a server with AOF on', async () => {
    const aof = await rdbServer({ appendonly: true })
    try {
      await on(aof, (c) => c.save())
      const was = await state(aof)
      const err = await fx.rejection(
        restore(aof.endpoint({ restart_command: aof.restart }), archive),
      )
      expect(err.message).toBe(
        `Redis at 127.0.0.1:${aof.port} has appendonly on: the server loads its AOF at start, not the RDB; turn appendonly off or restore with mode keys`,
      )
      expect(await state(aof)).toEqual(was)
    } finally {
      await aof.stop()
    }
  })

  it('waits for a save already running, fails after save_timeout, and a cancel during the wait ends promptly', async () => {
    const slow = await rdbServer()
    try {
      await on(slow, async (c) => {
        const pipe = c.pipeline()
        for (let i = 0; i < 50; i++) pipe.set(`k${i}`, i)
        await pipe.exec()
        await c.config('SET', 'rdb-key-save-delay', '100000') // 0.1 s a key: a 5 s BGSAVE
      })
      const ctx = testContext()
      const backup = fx.rejection(plugin.backup(slow.endpoint(), ctx).then(readAll))
      await waitFor('the BGSAVE to start', () =>
        ctx.lines.some((l) => l.startsWith('BGSAVE started')) ? true : undefined,
      )
      const canceled = Date.now()
      ctx.controller.abort()
      expect(await backup).toBeInstanceOf(PluginAbortedError)
      expect(Date.now() - canceled).toBeLessThan(1000)

      // That save still runs: the next backup waits for it, here for 1 s only.
      const tctx = testContext()
      const started = Date.now()
      const err = await fx.rejection(plugin.backup(slow.endpoint({ save_timeout: 1 }), tctx))
      expect(err.message).toBe(
        `Redis at 127.0.0.1:${slow.port} did not finish the background save or AOF rewrite already running within 1 s (save_timeout); raise save_timeout for a dataset this large, or check the Redis log`,
      )
      expect(Date.now() - started).toBeLessThan(3000)
      expect(tctx.lines).toContain(
        'a background save or AOF rewrite is already running; waiting for it to end first',
      )

      // Without the bound it waits for that save, then makes its own.
      await on(slow, (c) => c.config('SET', 'rdb-key-save-delay', '0'))
      const wctx = testContext()
      const rdb = await readAll(await plugin.backup(slow.endpoint(), wctx))
      expect(rdb.subarray(0, 5).toString()).toBe('REDIS')
      expect(wctx.lines.join('\n')).toMatch(/already running; waiting[\s\S]*BGSAVE started/)
    } finally {
      await slow.stop()
    }
  })

  it("finds the file with CONFIG GET, or rdb_path when CONFIG is not allowed, and refuses a file that is not this server's", async () => {
    expect(await plugin.test(src.endpoint(), testContext())).toMatch(
      `mode rdb: its RDB file ${src.rdb} is on this machine`,
    )
    await on(src, (c) =>
      c.acl('SETUSER', 'noconfig', 'on', '>noconfig-pw', '~*', '&*', '+@all', '-config'),
    )
    const user = { username: 'noconfig', password: 'noconfig-pw' }
    const noConfig = await fx.rejection(plugin.backup(src.endpoint(user), testContext()))
    expect(noConfig.message).toMatch(
      /^could not ask Redis at 127\.0\.0\.1:\d+ where its RDB file is \(CONFIG GET dir: NOPERM.*\); CONFIG may be renamed, disabled or not allowed for this user: set rdb_path to the full path of its RDB file$/,
    )
    const withPath = await readAll(
      await plugin.backup(src.endpoint({ ...user, rdb_path: src.rdb }), testContext()),
    )
    expect(withPath.subarray(0, 5).toString()).toBe('REDIS')

    const mismatch = await fx.rejection(
      plugin.test(src.endpoint({ rdb_path: join(src.dir, 'other.rdb') }), testContext()),
    )
    expect(mismatch.message).toMatch(
      /^rdb_path is .*other\.rdb, but Redis at .* saves to and loads from .*dump\.rdb/,
    )

    const elsewhere = await fx.rejection(
      plugin.backup(
        src.endpoint({ ...user, rdb_path: '/nonexistent-bulwark/dump.rdb' }),
        testContext(),
      ),
    )
    expect(elsewhere.message).toMatch(
      /is not on this machine: it is on the Redis server's host, so mode rdb must run there: give the target that host's agent \(its agent field\)/,
    )

    // An old RDB file at rdb_path is not what the BGSAVE just wrote.
    const stale = join(src.dir, 'stale', 'dump.rdb')
    await mkdir(join(src.dir, 'stale'))
    await copyFile(src.rdb, stale)
    await utimes(stale, new Date('2020-01-01'), new Date('2020-01-01'))
    const old = await fx.rejection(
      plugin.backup(src.endpoint({ ...user, rdb_path: stale }), testContext()),
    )
    expect(old.message).toMatch(/last written at 2020-01-01.*it is not that server's file/)
  })

  it('checks mode and the fields only mode rdb uses', async () => {
    const bad = await fx.rejection(plugin.test(src.endpoint({ mode: 'file' }), testContext()))
    expect(bad.message).toMatch(/^the Redis target's mode must be keys .* or rdb .*, got "file"$/)
    for (const field of ['restart_command', 'stop_command', 'rdb_path']) {
      const err = await fx.rejection(
        plugin.test(src.endpoint({ mode: 'keys', [field]: '/x' }), testContext()),
      )
      expect(err.message).toBe(
        `the Redis target's ${field} is only used with mode rdb; clear ${field} or set mode to rdb`,
      )
    }
    const keysRestore = await fx.rejection(
      plugin.restore(src.endpoint({ mode: 'keys' }), Readable.from([archive]), testContext()),
    )
    expect(keysRestore.message).toMatch(
      /an RDB file, made by a target in mode rdb: restore it with a target whose mode is rdb/,
    )
  })
})
