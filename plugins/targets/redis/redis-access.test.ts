// Tests of how the redis target connects: unreachable servers, db numbers,
// ACL users and passwords on the local Redis (dbs 11 and 12 only), and a
// private password-protected redis-server these tests start and stop.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PluginError } from '../../sdk/errors'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import redisTarget from './index'
import * as fx from '../../../test/fixtures/targets/redis'
import { skipTest } from '../../../test/helpers/skip'
import { toolAvailable } from '../../../test/helpers/services'

const available = await fx.redisAvailable()
const plugin = redisTarget.plugin as TargetPlugin
const SRC = 11
const DST = 12
const ep = fx.endpoint
const backup = async (db: number) => readAll(await plugin.backup(ep(db), testContext()))
const restore = (db: number, data: Buffer) =>
  plugin.restore(ep(db), Readable.from([data]), testContext())

const hasServer = toolAvailable('redis-server', ['--version'], 'apt-get install redis-server')

describe.skipIf(!available)('target redis: access', () => {
  beforeEach(() => fx.flush(SRC, DST))
  afterAll(() => fx.flush(SRC, DST))

  it('an unreachable port is a transient "cannot reach" error', async () => {
    const port = await fx.freePort()
    const err = await fx.rejection(plugin.test({ host: fx.HOST, port, db: SRC }, testContext()))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(`cannot reach Redis at ${fx.HOST}:${port}: connection refused`)
    expect((err as PluginError).kind).toBe('transient')
  })

  it('a peer that accepts but never answers fails test, backup and restore after connect_timeout, closing the connection; a non-Redis one is named', async () => {
    const accepted: Socket[] = []
    // It reads what it is sent (so it sees the client go), and never answers.
    const silent = createServer((socket) => void accepted.push(socket.resume()))
    const http = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
    await Promise.all(
      [silent, http].map((s) => new Promise((r) => s.listen(0, fx.HOST, () => r(s)))),
    )
    const port = (s: typeof silent) => (s.address() as { port: number }).port
    const quiet = ep(SRC, { port: port(silent), connect_timeout: 2 })
    try {
      const runs = [
        () => plugin.test(quiet, testContext()),
        async () => readAll(await plugin.backup(quiet, testContext())),
        () => plugin.restore(quiet, Readable.from([Buffer.from('BULWARK-REDIS')]), testContext()),
      ]
      for (const run of runs) {
        const started = Date.now()
        const err = await fx.rejection(run())
        expect(err.message).toBe(
          `Redis at 127.0.0.1:${port(silent)} did not answer within 2 s (connect_timeout); check that the server is running and reachable, and not overloaded`,
        )
        expect((err as PluginError).kind).toBe('transient')
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900)
        expect(Date.now() - started).toBeLessThan(4000)
        // The connection is given up, not left open.
        const socket = accepted.at(-1)!
        if (!socket.closed) await once(socket, 'close')
      }
      expect(accepted.length).toBe(runs.length)
      const other = await fx.rejection(plugin.test(ep(SRC, { port: port(http) }), testContext()))
      expect(other.message).toMatch(/does not speak the Redis protocol/)
    } finally {
      silent.close()
      http.close()
    }
  })

  it('rejects a db outside 0-15 before connecting', async () => {
    const err = await fx.rejection(plugin.test(ep(16), testContext()))
    expect(err.message).toMatch(/db must be a whole number from 0 to 15/)
  })

  describe('ACL users', () => {
    const tag = randomBytes(4).toString('hex')
    const [user, reader] = [`bk_${tag}`, `bk_ro_${tag}`]
    const password = `pw-${randomBytes(8).toString('hex')}`
    let created = false
    beforeAll(async () => {
      created = await fx.withDb(SRC, async (c) => {
        try {
          await c.acl('SETUSER', user, 'on', `>${password}`, '~*', '+@all')
          // May read and SCAN, but neither INFO nor MEMORY USAGE nor RESTORE.
          await c.acl('SETUSER', reader, 'on', `>${password}`, '~*', '+@read', '+@connection')
          await c.acl('SETUSER', reader, '-memory')
          return true
        } catch {
          return false
        }
      })
    })
    afterAll(() => fx.withDb(SRC, (c) => c.acl('DELUSER', user, reader)))

    it('a wrong password is refused without echoing it; the right one works', async (t) => {
      if (!created) skipTest(t, 'a Redis that lets root create ACL users (Redis 6 or later)')
      const wrong = `${password}-wrong`
      const err = await fx.rejection(
        plugin.test(ep(SRC, { username: user, password: wrong }), testContext()),
      )
      expect(err.message).toBe(`Redis refused the password on 127.0.0.1:6379 for user "${user}"`)
      expect(err.message).not.toContain(wrong)
      expect((err as PluginError).kind).toBe('permanent')
      const line = await plugin.test(ep(SRC, { username: user, password }), testContext())
      expect(line).toMatch(/^connected to Redis/)
    })

    it('a read-only user can back up (without INFO or MEMORY USAGE) but not restore', async (t) => {
      if (!created) skipTest(t, 'a Redis that lets root create ACL users (Redis 6 or later)')
      await fx.withDb(SRC, (c) => fx.seed(c, { small: 3000 }))
      const ro = (db: number) => ep(db, { username: reader, password })
      const archive = await readAll(await plugin.backup(ro(SRC), testContext()))
      await restore(DST, archive)
      expect(
        fx.differences(await fx.withDb(SRC, fx.snapshot), await fx.withDb(DST, fx.snapshot)),
      ).toEqual([])
      const err = await fx.rejection(
        plugin.restore(ro(DST), Readable.from([archive]), testContext()),
      )
      expect(err.message).toMatch(/^the Redis user on 127\.0\.0\.1:6379 is not allowed to do this/)
      expect(err.message).not.toContain(password)
    })
  })

  describe.skipIf(!hasServer)('a second Redis with requirepass', () => {
    const password = `secret-${randomBytes(8).toString('hex')}`
    let server: Awaited<ReturnType<typeof fx.privateRedis>>
    beforeAll(async () => void (server = await fx.privateRedis(password)))
    afterAll(() => server?.stop())
    const other = (more: Endpoint) => ({ host: fx.HOST, port: server.port, db: 3, ...more })

    it('says a password is needed, refuses a wrong one without echoing it', async () => {
      const none = await fx.rejection(plugin.test(other({}), testContext()))
      expect(none.message).toBe(`Redis at 127.0.0.1:${server.port} requires a password`)
      const wrong = await fx.rejection(plugin.test(other({ password: 'nope-123' }), testContext()))
      expect(wrong.message).toBe(`Redis refused the password on 127.0.0.1:${server.port}`)
      expect(wrong.message).not.toContain('nope-123')
    })

    it('restores an archive into another instance and db', async () => {
      await fx.withDb(SRC, (c) => fx.seed(c, { small: 500 }))
      const archive = await backup(SRC)
      await plugin.restore(other({ password }), Readable.from([archive]), testContext())
      const c = fx.redis(3, server.port, password)
      const after = await fx.snapshot(c)
      c.disconnect()
      expect(fx.differences(await fx.withDb(SRC, fx.snapshot), after)).toEqual([])
    })
  })
})
