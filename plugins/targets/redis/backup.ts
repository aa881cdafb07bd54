// The redis target's backup: SCAN the db, DUMP + PTTL each key in pipelined
// batches, and hand the framed records (format.ts) out one batch at a time as
// the consumer asks for them. Batches are sized by MEMORY USAGE so a few huge
// values are never fetched together; keys that vanish mid-backup are skipped.
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

/** PTTL then DUMP for each key, in one round trip; vanished keys are left out. */
export async function dumpBatch(client: Redis, keys: Buffer[]): Promise<DumpRecord[]> {
  const pipe = client.pipeline()
  for (const key of keys) pipe.pttl(key).dumpBuffer(key)
  const replies = (await pipe.exec()) ?? []
  const records: DumpRecord[] = []
  keys.forEach((key, i) => {
    const [ttlErr, pttl] = replies[2 * i] ?? [new Error('no reply to PTTL'), null]
    const [dumpErr, payload] = replies[2 * i + 1] ?? [new Error('no reply to DUMP'), null]
    if (ttlErr) throw ttlErr
    if (dumpErr) throw dumpErr
    if (!Buffer.isBuffer(payload) || pttl === -2) return // deleted or expired since SCAN
    // -1: no expiry. 0 would read as "no expiry" on restore, so it becomes 1 ms.
    records.push({ key, pttl: pttl === -1 ? -1 : Math.max(1, Number(pttl)), payload })
  })
  return records
}

async function* frames(conn: Connection, ctx: PluginContext, done: (n: number) => void) {
  const { client } = conn
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
      for (const r of await dumpBatch(client, group)) {
        if (ctx.signal.aborted) throw new PluginAbortedError()
        yield encodeRecordHead(r.key, r.pttl, r.payload.length)
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
