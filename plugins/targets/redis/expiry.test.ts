// Absolute expiry times in the redis target, against a private redis-server
// started here: the backup records each key's expiry time (PEXPIRETIME, or
// the clock + PTTL where that is missing), a restore with absolute_ttl keeps
// it exactly (RESTORE ... ABSTTL) and leaves out keys whose time has passed,
// without it the TTL counts from the restore, and a format 1 archive (no
// expiry times) still restores.
import { Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import { dumpBatch, expirySource } from './backup'
import { encodeEnd, encodeHeader, encodeRecordHead, openArchive, type DumpRecord } from './format'
import redisTarget from './index'
import * as fx from '../../../test/fixtures/targets/redis'

const available = await fx.redisAvailable()
const plugin = redisTarget.plugin as TargetPlugin
const PASSWORD = 'expiry-test-password'
const HOUR = 3_600_000

describe.skipIf(!available)('target redis: absolute expiry times', () => {
  let server: Awaited<ReturnType<typeof fx.privateRedis>>
  const ep = (db: number, more: Endpoint = {}): Endpoint =>
    fx.endpoint(db, { port: server.port, password: PASSWORD, ...more })
  const client = (db: number) => fx.redis(db, server.port, PASSWORD)
  const on = async <T>(db: number, fn: (c: ReturnType<typeof client>) => Promise<T>) => {
    const c = client(db)
    try {
      return await fn(c)
    } finally {
      c.disconnect()
    }
  }
  const records = async (archive: Buffer): Promise<DumpRecord[]> => {
    const out: DumpRecord[] = []
    for await (const r of (await openArchive(Readable.from([archive]))).records()) out.push(r)
    return out
  }
  const restore = (db: number, archive: Buffer, more: Endpoint = {}, ctx = testContext()) =>
    plugin.restore(ep(db, more), Readable.from([archive]), ctx).then(() => ctx.lines.join('\n'))

  beforeAll(async () => {
    server = await fx.privateRedis(PASSWORD)
  })
  afterAll(() => server?.stop())
  beforeEach(() => on(0, (c) => c.flushall().then(() => undefined)))

  it('the backup records each key’s expiry time exactly (PEXPIRETIME) next to its TTL', async () => {
    const at = Date.now() + HOUR + 123
    await on(1, async (c) => {
      await c.set('timed', 'x')
      await c.pexpireat('timed', at)
      await c.set('forever', 'y')
    })
    const ctx = testContext()
    const archive = await readAll(await plugin.backup(ep(1), ctx))
    expect(archive[13]).toBe(2) // format 2
    const byKey = Object.fromEntries((await records(archive)).map((r) => [r.key.toString(), r]))
    expect(byKey.timed!.expireAt).toBe(at)
    expect(byKey.timed!.pttl).toBeGreaterThan(HOUR - 5000)
    expect(byKey.timed!.pttl).toBeLessThanOrEqual(HOUR + 123)
    expect(byKey.forever).toMatchObject({ pttl: -1, expireAt: -1 })
    expect(ctx.lines.join('\n')).not.toMatch(/absolute expiry times are taken from/)
  })

  it('where PEXPIRETIME is missing, the expiry time is the clock plus PTTL', async () => {
    const at = Date.now() + HOUR
    await on(1, async (c) => {
      await c.set('timed', 'x')
      await c.pexpireat('timed', at)
      expect(await expirySource(c)).toBe('pexpiretime')
      for (const source of ['time', 'local'] as const) {
        const [r] = await dumpBatch(c, [Buffer.from('timed')], source)
        // Off by the round trip at most (TIME and PTTL run in the same pipeline).
        expect(Math.abs(r!.expireAt! - at), source).toBeLessThan(1000)
      }
    })
  })

  it('restores with absolute_ttl at the recorded time, without it counting from the restore', async () => {
    const key = Buffer.from('session')
    const payload = await on(1, async (c) => {
      await c.set(key, 'v')
      return (await c.dumpBuffer(key))!
    })
    // Left 1 h at the backup, which was long ago: it expires in 10 min.
    const at = Date.now() + 600_000
    const archive = Buffer.concat([
      encodeHeader('7.0.15'),
      encodeRecordHead(key, HOUR, payload.length, at),
      payload,
      encodeEnd(1),
    ])
    const log = await restore(2, archive, { absolute_ttl: true })
    expect(log).toMatch(/absolute_ttl: keys expire when they would have in the backed-up db/)
    expect(await on(2, (c) => c.pexpiretime(key))).toBe(at)

    const before = Date.now()
    await restore(3, archive)
    const pttl = await on(3, (c) => c.pttl(key))
    expect(pttl).toBeGreaterThan(HOUR - (Date.now() - before) - 1000)
    expect(pttl).toBeLessThanOrEqual(HOUR)
  })

  it('with absolute_ttl leaves out a key whose time has passed, removing one of its name', async () => {
    const payloads = await on(1, async (c) => {
      await c.set('old', 'archived')
      await c.set('live', 'archived')
      return [(await c.dumpBuffer('old'))!, (await c.dumpBuffer('live'))!]
    })
    const archive = Buffer.concat([
      encodeHeader('7.0.15'),
      encodeRecordHead(Buffer.from('old'), 5000, payloads[0]!.length, Date.now() - 60_000),
      payloads[0]!,
      encodeRecordHead(Buffer.from('live'), -1, payloads[1]!.length, -1),
      payloads[1]!,
      encodeEnd(2),
    ])
    await on(2, (c) => c.set('old', 'was here'))
    const log = await restore(2, archive, { absolute_ttl: true })
    expect(log).toMatch(/restored 1 key, 0 of them over keys that already existed/)
    expect(log).toMatch(/1 key of the archive not restored: its expiry time had passed/)
    expect(await on(2, (c) => c.mget('old', 'live'))).toEqual([null, 'archived'])
    expect(await on(2, (c) => c.pttl('live'))).toBe(-1)
  })

  it('restores an archive of format 1 (no expiry times), with absolute_ttl counting from now', async () => {
    const key = Buffer.from('k')
    const payload = await on(1, async (c) => {
      await c.set(key, 'v')
      return (await c.dumpBuffer(key))!
    })
    const archive = Buffer.concat([
      encodeHeader('7.0.15', 1),
      encodeRecordHead(key, HOUR, payload.length),
      payload,
      encodeEnd(1),
    ])
    expect((await records(archive))[0]).toMatchObject({ pttl: HOUR, expireAt: undefined })
    const log = await restore(2, archive, { absolute_ttl: true })
    expect(log).toMatch(/the archive was made by an older Bulwark and records only the TTL/)
    expect(await on(2, (c) => c.get(key))).toBe('v')
    expect(await on(2, (c) => c.pttl(key))).toBeGreaterThan(HOUR - 5000)
  })

  it('refuses an absolute_ttl that is not a boolean', async () => {
    const err = await fx.rejection(restore(2, Buffer.alloc(0), { absolute_ttl: 'yes' }))
    expect(err.message).toBe("the Redis target's absolute_ttl must be true or false")
  })
})
