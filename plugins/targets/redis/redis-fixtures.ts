// Test fixtures for the redis target: whether the local Redis answers, the
// scratch dbs the tests may use (never db 0), seeding every value type, a
// snapshot of a db to compare restores against, and a private password-
// protected redis-server started (and stopped) by the tests themselves.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { serviceAvailable } from '../../sdk/conformance/services'
import type { TargetConformanceOptions } from '../../sdk/conformance/target-suite'
import type { Endpoint } from '../../sdk/types'

export const HOST = '127.0.0.1'
export const PORT = 6379
export const MiB = 1024 * 1024

export const endpoint = (db: number, more: Endpoint = {}): Endpoint => ({
  host: HOST,
  port: PORT,
  db,
  ...more,
})

export const redis = (db: number, port = PORT, password?: string): Redis =>
  new Redis({ host: HOST, port, db, password, lazyConnect: true, maxRetriesPerRequest: 1 })

/** Whether a Redis answers PING at HOST:PORT (checked once, before the suites are declared). */
export async function redisUp(): Promise<boolean> {
  const c = new Redis({ host: HOST, port: PORT, lazyConnect: true, retryStrategy: () => null })
  c.on('error', () => undefined)
  try {
    await c.connect()
    return (await c.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    c.disconnect()
  }
}

/** Whether to run: under CI=true a missing Redis fails the run, elsewhere the tests skip. */
export async function redisAvailable(): Promise<boolean> {
  const up = await redisUp()
  return serviceAvailable(`Redis at ${HOST}:${PORT}`, () => up)
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the call to reject, it resolved')
}

export async function flush(...dbs: number[]): Promise<void> {
  for (const db of dbs) {
    if (db === 0) throw new Error('the tests never touch db 0')
    const c = redis(db)
    await c.flushdb()
    c.disconnect()
  }
}

export async function withDb<T>(db: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = redis(db)
  try {
    return await fn(c)
  } finally {
    c.disconnect()
  }
}

/** Every value type, binary keys and values, TTLs in s and ms, plus `small` tiny keys. */
export async function seed(c: Redis, opts: { small?: number; bigMiB?: number } = {}) {
  await c.set(Buffer.from('bin\0key\xff', 'latin1'), Buffer.from([0, 0xff, 0xfe, 0, 0x80, 0x0a]))
  await c.set('utf8:κλειδί', 'τιμή ✓')
  await c.set('', 'the empty key')
  await c.hset('hash', { a: '1', b: Buffer.from([0, 1, 2, 0xff]), c: 'three' })
  await c.rpush('list', 'x', 'y', Buffer.from([0xc3, 0x28]), 'x')
  await c.sadd('set', 'm1', 'm2', 'm3')
  await c.sadd('intset', 1, 2, 3, 40000)
  await c.zadd('zset', 1.5, 'one', -2, 'two', 1e10, 'three')
  await c.xadd('stream', '1-1', 'f', 'v1')
  await c.xadd('stream', '2-0', 'f', 'v2', 'g', Buffer.from([0, 0xff]))
  await c.xgroup('CREATE', 'stream', 'readers', '0')
  await c.set('ttl:seconds', 's', 'EX', 3600)
  await c.set('ttl:ms', 'ms', 'PX', 987_654)
  await c.hset('ttl:hash', 'k', 'v')
  await c.pexpire('ttl:hash', 123_456)
  if (opts.bigMiB) await c.set('big', randomBytes(opts.bigMiB * MiB))
  const small = opts.small ?? 0
  for (let i = 0; i < small; i += 5000) {
    const pipe = c.pipeline()
    for (let j = i; j < Math.min(small, i + 5000); j++) pipe.set(`small:${j}`, `v${j}`)
    await pipe.exec()
  }
}

const sorted = (items: unknown): Buffer =>
  Buffer.concat(
    (items as (Buffer | string)[])
      .map((x) => Buffer.from(x))
      .sort(Buffer.compare)
      .flatMap((x) => [x, Buffer.from([0])]),
  )

export interface KeyState {
  type: string
  digest: string
  pttl: number
}

/** For every key: its type, a digest of its DUMP payload (content and encoding), and its PTTL. */
export async function snapshot(c: Redis): Promise<Map<string, KeyState>> {
  const out = new Map<string, KeyState>()
  let cursor = '0'
  do {
    const [next, keys] = await c.scanBuffer(cursor, 'COUNT', 1000)
    cursor = next.toString()
    const pipe = c.pipeline()
    for (const k of keys) pipe.type(k).dumpBuffer(k).pttl(k).smembersBuffer(k).hgetallBuffer(k)
    const replies = (await pipe.exec()) ?? []
    keys.forEach((k, i) => {
      const [type, dump, pttl, members, fields] = [0, 1, 2, 3, 4].map((o) => replies[5 * i + o])
      // A hashtable set or hash may DUMP its members in another order after RESTORE.
      const content =
        type?.[1] === 'set'
          ? sorted(members?.[1])
          : type?.[1] === 'hash'
            ? sorted(
                Object.entries(fields?.[1] as Record<string, Buffer>).map(([f, v]) =>
                  Buffer.concat([Buffer.from(`${f}=`), v]),
                ),
              )
            : (dump?.[1] as Buffer)
      out.set(k.toString('latin1'), {
        type: String(type?.[1]),
        digest: createHash('sha256').update(content).digest('hex'),
        pttl: Number(pttl?.[1]),
      })
    })
  } while (cursor !== '0')
  return out
}

/**
 * Differences between two snapshots; [] when equal. b's TTLs may be up to 2 s off a's, or
 * lower by `elapsedMs` more (the time between the two snapshots).
 */
export function differences(a: Map<string, KeyState>, b: Map<string, KeyState>, elapsedMs = 0) {
  const diffs: string[] = []
  for (const [key, x] of a) {
    const y = b.get(key)
    if (!y) diffs.push(`missing ${JSON.stringify(key)}`)
    else if (x.type !== y.type || x.digest !== y.digest) diffs.push(`content of ${key}`)
    else if (
      x.pttl < 0 !== y.pttl < 0 ||
      y.pttl > x.pttl + 2000 ||
      y.pttl < x.pttl - elapsedMs - 2000
    )
      diffs.push(`ttl of ${key}: ${x.pttl} vs ${y.pttl}`)
  }
  for (const key of b.keys()) if (!a.has(key)) diffs.push(`extra ${JSON.stringify(key)}`)
  return diffs
}

/** The shared target suite's options: seed and back up db src, restore into db dst, flushed. */
export function conformance(src: number, dst: number): TargetConformanceOptions {
  // Exact TTLs run down between snapshots (redis.test.ts checks them); here only whether one is set.
  const contents = async (db: number) =>
    Object.fromEntries(
      [...(await withDb(db, snapshot))]
        .map(([k, s]) => [k, `${s.type} ${s.digest} ${s.pttl < 0 ? 'persistent' : 'expiring'}`])
        .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    )
  return {
    endpoint: async () => endpoint(src),
    restoreEndpoint: async () => {
      await flush(dst)
      return endpoint(dst)
    },
    seed: async () => {
      await flush(src, dst)
      await withDb(src, (c) => seed(c, { small: 1000, bigMiB: 6 }))
    },
    snapshot: (ep) => contents(ep.db as number),
    mutate: () =>
      withDb(src, async (c) => {
        await c.set('utf8:κλειδί', 'changed')
        await c.del('hash')
        await c.persist('ttl:ms')
        await c.set('new', 'x')
      }),
    badEndpoint: async () =>
      endpoint(src, {
        port: await freePort(),
        password: `Telltale-${randomBytes(6).toString('hex')}`,
      }),
    cleanup: () => flush(src, dst),
    spawnsTools: false,
  }
}

/** A port nothing listens on (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, HOST, r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

/** A private redis-server with requirepass, nothing on disk; stop() kills it by pid. */
export async function privateRedis(password: string) {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-redis-'))
  const args = ['--port', String(port), '--bind', HOST, '--requirepass', password]
  const child: ChildProcess = spawn(
    'redis-server',
    [...args, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  const deadline = Date.now() + 10_000
  for (;;) {
    const c = new Redis({
      host: HOST,
      port,
      password,
      lazyConnect: true,
      retryStrategy: () => null,
    })
    c.on('error', () => undefined)
    const ok = await c.connect().then(
      () => true,
      () => false,
    )
    c.disconnect()
    if (ok) break
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('redis-server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM')
    await rm(dir, { recursive: true, force: true })
  }
  return { port, stop }
}
