// Tests of the redis target against the real Redis at 127.0.0.1:6379: the
// shared conformance suite (dbs 13, 14), round trips, bounded memory, corrupt
// archives and abort (dbs 9, 10), each flushed before and after; never db 0.
// Connection and auth errors are in redis-access.test.ts (dbs 11, 12).
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { readAll, testContext } from '../../sdk/conformance/services'
import { targetConformance } from '../../sdk/conformance/target-suite'
import type { TargetPlugin } from '../../sdk/types'
import { dumpBatch } from './backup'
import { CONNECTION_NAME } from './client'
import { encodeEnd, encodeHeader, encodeRecordHead } from './format'
import redisTarget from './index'
import * as fx from '../../../test/fixtures/targets/redis'
import { waitFor } from '../../../test/helpers/wait'

const available = await fx.redisAvailable()
const plugin = redisTarget.plugin as TargetPlugin
const SRC = 9
const DST = 10
const ep = (db: number) => fx.endpoint(db)
const backup = async (db: number) => readAll(await plugin.backup(ep(db), testContext()))
const restore = (db: number, data: Buffer | Readable, ctx = testContext()) =>
  plugin.restore(ep(db), Buffer.isBuffer(data) ? Readable.from([data]) : data, ctx)

const ourClients = () =>
  fx.withDb(SRC, async (c) => {
    const list = String(await c.client('LIST'))
    // Only connections in SRC: redis-access.test.ts may run alongside, in other dbs.
    const ours = (l: string) => l.includes(`name=${CONNECTION_NAME} `) && l.includes(` db=${SRC} `)
    return list.split('\n').filter(ours).length
  })

describe.skipIf(!available)('target redis', () => {
  targetConformance('redis', fx.conformance(13, 14))

  beforeEach(() => fx.flush(SRC, DST))
  afterAll(() => fx.flush(SRC, DST))

  it('test() names the version, db and key count', async () => {
    await fx.withDb(SRC, (c) => c.mset('a', '1', 'b', '2'))
    expect(await plugin.test(ep(SRC), testContext())).toMatch(
      /^connected to Redis \d+\.\d+\.\d+, db 9 \(2 keys\)$/,
    )
  })

  it('backs up every type and restores an identical db (binary keys, TTLs, 20 MiB value)', async () => {
    await fx.withDb(SRC, (c) => fx.seed(c, { small: 2000, bigMiB: 20 }))
    const started = Date.now()
    const before = await fx.withDb(SRC, fx.snapshot)
    const archive = await backup(SRC)
    expect(archive.subarray(0, 13).toString()).toBe('BULWARK-REDIS')
    const ctx = testContext()
    await restore(DST, archive, ctx)
    const after = await fx.withDb(DST, fx.snapshot)
    const elapsed = Date.now() - started // TTLs ran down meanwhile, by at most this
    expect(after.size).toBe(before.size)
    expect(fx.differences(before, after, elapsed)).toEqual([])
    expect(after.get('ttl:ms')!.pttl).toBeGreaterThan(987_654 - elapsed - 2000)
    expect(after.get('hash')!.pttl).toBe(-1)
    expect(ctx.lines.join('\n')).toMatch(/holds 0 keys before the restore/)
  })

  it('restore replaces keys of the same name, leaves the others, and says so', async () => {
    await fx.withDb(SRC, (c) => c.mset('shared', 'from-archive', 'only-archive', 'x'))
    const archive = await backup(SRC)
    await fx.withDb(DST, (c) => c.mset('shared', 'old', 'only-dest', 'y'))
    const ctx = testContext()
    await restore(DST, archive, ctx)
    const values = await fx.withDb(DST, (c) => c.mget('shared', 'only-archive', 'only-dest'))
    expect(values).toEqual(['from-archive', 'x', 'y'])
    const log = ctx.lines.join('\n')
    expect(log).toMatch(/holds 2 keys before the restore/)
    expect(log).toMatch(/restored 2 keys, 1 of them over keys that already existed/)
  })

  it('an empty db backs up and restores as an empty archive', async () => {
    const archive = await backup(SRC)
    await restore(DST, archive)
    expect(await fx.withDb(DST, (c) => c.dbsize())).toBe(0)
  })

  it('streams 50,000 keys and a 20 MiB value to a slow reader in bounded memory', async () => {
    await fx.withDb(SRC, (c) => fx.seed(c, { small: 50_000, bigMiB: 20 }))
    const buffers = () => process.memoryUsage().arrayBuffers // where Buffers live
    const base = { rss: process.memoryUsage().rss, buffers: buffers() }
    const peak = { ...base }
    const stream = await plugin.backup(ep(SRC), testContext())
    let bytes = 0
    const sample = setInterval(() => {
      peak.rss = Math.max(peak.rss, process.memoryUsage().rss)
      peak.buffers = Math.max(peak.buffers, buffers())
    }, 10)
    const slowReader = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        const mark = Math.floor(bytes / (256 * 1024))
        bytes += chunk.length
        // 10 ms per 256 KiB: about 25 MiB/s, slower than Redis hands the keys out
        if (Math.floor(bytes / (256 * 1024)) !== mark) setTimeout(done, 10)
        else done()
      },
    })
    await pipeline(stream, slowReader)
    clearInterval(sample)
    const mib = (n: number) => (n / fx.MiB).toFixed(1)
    console.info(
      `redis backup of ${mib(bytes)} MiB: rss peak +${mib(peak.rss - base.rss)} MiB, ` +
        `Buffer memory peak +${mib(peak.buffers - base.buffers)} MiB`,
    )
    expect(bytes).toBeGreaterThan(20 * fx.MiB)
    expect(peak.rss - base.rss).toBeLessThan(150 * fx.MiB)
  }, 120_000)

  it('a truncated, miscounted or foreign archive fails restore as corrupt', async () => {
    await fx.withDb(SRC, (c) => fx.seed(c, { small: 100 }))
    const archive = await backup(SRC)
    const countAt = archive.length - 8
    const miscounted = Buffer.from(archive)
    miscounted.writeBigUInt64BE(archive.readBigUInt64BE(countAt) + 1n, countAt)
    const cases = [
      archive.subarray(0, archive.length - 1),
      archive.subarray(0, archive.length - 12), // no end marker
      archive.subarray(0, Math.floor(archive.length / 2)),
      archive.subarray(0, 10),
      Buffer.alloc(0),
      miscounted,
      Buffer.concat([archive, Buffer.from('x')]),
      Buffer.from('not an archive at all, just text'),
    ]
    for (const data of cases) {
      const ctx = testContext()
      const err = await fx.rejection(restore(DST, data, ctx))
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toMatch(/^the archive is truncated or corrupt/)
      expect((err as PluginError).kind).toBe('permanent')
      if (data.length > 100) expect(ctx.lines.join('\n')).toMatch(/the restore stopped after/)
    }
  })

  it('names both versions when the archive comes from a newer Redis', async () => {
    await fx.withDb(SRC, (c) => c.set('k', 'v'))
    const payload = Buffer.from((await fx.withDb(SRC, (c) => c.dumpBuffer('k')))!)
    payload.writeUInt16LE(0xfff0, payload.length - 10) // an RDB version from the future
    const archive = Buffer.concat([
      encodeHeader('99.1.0'),
      encodeRecordHead(Buffer.from('k'), -1, payload.length, -1),
      payload,
      encodeEnd(1),
    ])
    const err = await fx.rejection(restore(DST, archive))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(
      /Redis 7\.\d+\.\d+ at 127\.0\.0\.1:6379 cannot load .* Redis 99\.1\.0/,
    )
  })

  it('aborting a backup stops it promptly, errors the stream and closes the connection', async () => {
    await fx.withDb(SRC, (c) => fx.seed(c, { small: 50_000 }))
    const clients = await ourClients()
    const ctx = testContext()
    const stream = await plugin.backup(ep(SRC), ctx)
    expect(await ourClients()).toBe(clients + 1)
    let abortedAt = 0
    const err = await fx.rejection(
      (async () => {
        let seen = 0
        for await (const chunk of stream) {
          seen += (chunk as Buffer).length
          if (seen > 64 * 1024 && !abortedAt) {
            abortedAt = Date.now()
            ctx.controller.abort()
          }
        }
      })(),
    )
    expect(err).toBeInstanceOf(PluginAbortedError)
    expect(Date.now() - abortedAt).toBeLessThan(1000)
    // The connection closes as the abort lands: wait for Redis to count it gone.
    await waitFor('the connection to close', async () =>
      (await ourClients()) === clients ? true : undefined,
    )
  })

  it('aborting a restore rejects with PluginAbortedError and stops reading', async () => {
    await fx.withDb(SRC, (c) => fx.seed(c, { small: 20_000 }))
    const archive = await backup(SRC)
    const ctx = testContext()
    let offered = 0
    const slow = new Readable({
      read() {
        setTimeout(() => {
          if (this.destroyed) return
          const chunk = archive.subarray(offered, offered + 16 * 1024)
          offered += chunk.length
          this.push(chunk.length ? chunk : null)
        }, 2)
      },
    })
    const pending = restore(DST, slow, ctx)
    while (offered < archive.length / 4) await new Promise((r) => setTimeout(r, 5))
    ctx.controller.abort()
    expect(await fx.rejection(pending)).toBeInstanceOf(PluginAbortedError)
    const stopped = offered
    // That nothing more is read is the point: a quiet moment is the only way to see it.
    await new Promise((r) => setTimeout(r, 100))
    expect(offered).toBe(stopped)
  })

  it('a backup with an already aborted signal rejects at once', async () => {
    const ctx = testContext()
    ctx.controller.abort()
    expect(await fx.rejection(plugin.backup(ep(SRC), ctx))).toBeInstanceOf(PluginAbortedError)
  })

  it('skips keys that vanished between SCAN and DUMP', async () => {
    await fx.withDb(SRC, (c) => c.set('here', '1'))
    const records = await fx.withDb(SRC, (c) =>
      dumpBatch(c, [Buffer.from('gone'), Buffer.from('here')]),
    )
    expect(records.map((r) => r.key.toString())).toEqual(['here'])
  })
})
