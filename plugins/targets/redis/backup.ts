// The redis target's backup: SCAN the db, DUMP + PTTL + PEXPIRETIME each key in
// pipelined batches, and hand the framed records (format.ts) out one batch at a
// time as the consumer asks for them. Batches are sized by MEMORY USAGE so a
// few huge values are never fetched together; keys that vanish mid-backup are
// skipped.
import { Readable } from 'node:stream'
import type { Redis } from 'ioredis'
import { PluginAbortedError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import type { Connection } from './client'
import { encodeEnd, encodeHeader, encodeRecordHead, type DumpRecord } from './format'

const SCAN_COUNT = 1000
/** Estimated bytes of values fetched in one pipeline. */
const BATCH_BYTES = 8 * 1024 * 1024
const BATCH_KEYS = 250
/** Used when MEMORY USAGE is not allowed: batches of 16 keys. */
const UNKNOWN_SIZE = BATCH_BYTES / 16

/** SCAN may return a key twice; within one page that is cheap to drop. */
function unique(keys: Buffer[]): Buffer[] {
  const seen = new Set<string>()
  return keys.filter((k) => {
    const id = k.toString('latin1')
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}

/** Splits keys into groups whose values together stay near BATCH_BYTES. */
async function batches(client: Redis, keys: Buffer[]): Promise<Buffer[][]> {
  const pipe = client.pipeline()
  for (const key of keys) pipe.memory('USAGE', key)
  const sizes = (await pipe.exec()) ?? []
  const groups: Buffer[][] = []
  let group: Buffer[] = []
  let bytes = 0
  keys.forEach((key, i) => {
    const [err, size] = sizes[i] ?? [null, null]
    const estimate = err || typeof size !== 'number' ? UNKNOWN_SIZE : size
    if (group.length > 0 && (bytes + estimate > BATCH_BYTES || group.length >= BATCH_KEYS)) {
      groups.push(group)
      group = []
      bytes = 0
    }
    group.push(key)
    bytes += estimate
  })
  if (group.length > 0) groups.push(group)
  return groups
}

/**
 * Where a key's absolute expiry time comes from: PEXPIRETIME (Redis 7.0 and
 * later, exact), else the server's clock (TIME) plus PTTL, else (TIME not
 * allowed either) the daemon's clock plus PTTL.
 */
export type ExpirySource = 'pexpiretime' | 'time' | 'local'

/** The best source this server and user allow, tried on a key that does not exist. */
export async function expirySource(client: Redis): Promise<ExpirySource> {
  const probe = Buffer.from('bulwark:expiry-probe:\0')
  if (
    await client.pexpiretime(probe).then(
      () => true,
      () => false,
    )
  )
    return 'pexpiretime'
  return client.time().then(
    () => 'time' as const,
    () => 'local' as const,
  )
}

/** TIME's reply in ms. */
const ms = (time: unknown): number => {
  const [s, us] = time as [string, string]
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

/**
 * PTTL, the absolute expiry and DUMP for each key, in one round trip; vanished
 * keys are left out.
 */
export async function dumpBatch(
  client: Redis,
  keys: Buffer[],
  source: ExpirySource = 'local',
): Promise<DumpRecord[]> {
  const pipe = client.pipeline()
  if (source === 'time') pipe.time()
  for (const key of keys) {
    pipe.pttl(key)
    if (source === 'pexpiretime') pipe.pexpiretime(key)
    pipe.dumpBuffer(key)
  }
  const sent = Date.now()
  const replies = (await pipe.exec()) ?? []
  let now = sent
  if (source === 'time') {
    const [timeErr, time] = replies.shift() ?? [new Error('no reply to TIME'), null]
    if (timeErr) throw timeErr
    now = ms(time)
  }
  const per = source === 'pexpiretime' ? 3 : 2
  const records: DumpRecord[] = []
  keys.forEach((key, i) => {
    const reply = (n: number, what: string) => {
      const [err, value] = replies[per * i + n] ?? [new Error(`no reply to ${what}`), null]
      if (err) throw err
      return value
    }
    const pttl = reply(0, 'PTTL')
    const at = source === 'pexpiretime' ? Number(reply(1, 'PEXPIRETIME')) : undefined
    const payload = reply(per - 1, 'DUMP')
    if (!Buffer.isBuffer(payload) || pttl === -2) return // deleted or expired since SCAN
    if (pttl === -1) return void records.push({ key, pttl: -1, expireAt: -1, payload })
    // 0 would read as "no expiry" on restore, so it becomes 1 ms.
    const left = Math.max(1, Number(pttl))
    // PEXPIRETIME -1 or -2: the expiry changed between the two commands.
    const expireAt = at !== undefined && at > 0 ? at : now + left
    records.push({ key, pttl: left, expireAt, payload })
  })
  return records
}

const SOURCES: Record<ExpirySource, string> = {
  pexpiretime: 'PEXPIRETIME',
  time: "the server's clock (TIME) + PTTL: PEXPIRETIME (Redis 7.0) is missing or not allowed",
  local: "the daemon's clock + PTTL: neither PEXPIRETIME (Redis 7.0) nor TIME is allowed",
}

async function* frames(conn: Connection, ctx: PluginContext, done: (n: number) => void) {
  const { client } = conn
  const source = await expirySource(client)
  if (source !== 'pexpiretime') ctx.log(`absolute expiry times are taken from ${SOURCES[source]}`)
  yield encodeHeader(conn.version)
  let cursor = '0'
  let count = 0
  do {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    const [next, page] = await client.scanBuffer(cursor, 'COUNT', SCAN_COUNT)
    cursor = next.toString()
    const keys = unique(page)
    if (keys.length === 0) continue
    for (const group of await batches(client, keys)) {
      for (const r of await dumpBatch(client, group, source)) {
        if (ctx.signal.aborted) throw new PluginAbortedError()
        yield encodeRecordHead(r.key, r.pttl, r.payload.length, r.expireAt)
        yield r.payload
        count++
      }
    }
  } while (cursor !== '0')
  yield encodeEnd(count)
  done(count)
}

/** The archive as a byte stream; it ends only after the end marker, and closes the connection. */
export function backupStream(conn: Connection, ctx: PluginContext): Readable {
  async function* guarded() {
    try {
      yield* frames(conn, ctx, (n) => ctx.log(`backed up ${n} ${n === 1 ? 'key' : 'keys'}`))
    } catch (err) {
      throw conn.explain(err)
    } finally {
      await conn.close()
    }
  }
  const stream = Readable.from(guarded(), { objectMode: false, highWaterMark: 1024 * 1024 })
  const abort = () => stream.destroy(new PluginAbortedError())
  if (ctx.signal.aborted) abort()
  else ctx.signal.addEventListener('abort', abort, { once: true })
  stream.once('close', () => {
    ctx.signal.removeEventListener('abort', abort)
    void conn.close() // also when the stream is destroyed before it was ever read
  })
  return stream
}
