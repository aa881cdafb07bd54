// The Redis archive format: a header naming the source Redis, one framed record
// per key (its DUMP payload, remaining TTL and absolute expiry time), and an
// end marker carrying the record count, so a truncated archive can never pass
// for a whole one.
//
//   header  "BULWARK-REDIS" | version u8 (2) | versionLen u8 | redis version (ASCII)
//   record  keyLen u32 | key | pttl i64 (-1: no expiry) | expireAt i64 | payloadLen u32 | DUMP payload
//   end     0xFFFFFFFF | record count u64
//
// expireAt is the Unix time in ms at which the key expires (-1: no expiry), as
// PEXPIRETIME tells (or the time of the dump + PTTL on a Redis without it), so
// a restore can keep the original expiry instead of counting the TTL again.
// Format 1, written before that, has no expireAt field; it is still read.
//
// Integers are big-endian. The end marker uses a key length no real key can have.
import { PluginError } from '../../sdk/errors'

export const MAGIC = Buffer.from('BULWARK-REDIS', 'ascii')
export const FORMAT_VERSION = 2
/** Formats this code reads: 1 has no expireAt in its records. */
const READABLE = [1, 2]
const END = 0xffffffff
const MAX_KEY = 512 * 1024 * 1024 // Redis's own limit; a larger length means a damaged archive

export interface DumpRecord {
  key: Buffer
  /** Remaining time to live in ms, or -1 when the key does not expire. */
  pttl: number
  /** When the key expires, Unix time in ms; -1 when it does not; undefined in a format 1 archive. */
  expireAt?: number
  payload: Buffer
}

export const corrupt = (why: string): PluginError =>
  new PluginError(`the archive is truncated or corrupt: ${why}`, 'permanent')

/** The header; `format` 1 only to write archives as older Bulwarks did (tests). */
export function encodeHeader(redisVersion: string, format = FORMAT_VERSION): Buffer {
  const version = Buffer.from(redisVersion, 'ascii').subarray(0, 255)
  return Buffer.concat([MAGIC, Buffer.from([format, version.length]), version])
}

/**
 * The bytes before the payload; the payload follows as its own chunk (no
 * copy). Without expireAt, a record of format 1.
 */
export function encodeRecordHead(
  key: Buffer,
  pttl: number,
  payloadLength: number,
  expireAt?: number,
): Buffer {
  if (payloadLength > 0xffffffff) throw new PluginError('a Redis value is larger than 4 GiB')
  const times = expireAt === undefined ? 8 : 16
  const head = Buffer.allocUnsafe(4 + key.length + times + 4)
  head.writeUInt32BE(key.length, 0)
  key.copy(head, 4)
  head.writeBigInt64BE(BigInt(pttl), 4 + key.length)
  if (expireAt !== undefined) head.writeBigInt64BE(BigInt(expireAt), 12 + key.length)
  head.writeUInt32BE(payloadLength, 4 + times + key.length)
  return head
}

export function encodeEnd(count: number): Buffer {
  const end = Buffer.allocUnsafe(12)
  end.writeUInt32BE(END, 0)
  end.writeBigUInt64BE(BigInt(count), 4)
  return end
}

/** Pulls exact byte counts out of a chunked async source, holding only what is asked for. */
class ByteReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private done = false

  constructor(private readonly source: AsyncIterator<unknown>) {}

  /** Exactly n bytes, or null if the source ended first. */
  async take(n: number): Promise<Buffer | null> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next()
      if (next.done) this.done = true
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string)
        this.chunks.push(chunk)
        this.buffered += chunk.length
      }
    }
    if (this.buffered < n) return null
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.chunks = all.length > n ? [all.subarray(n)] : []
    this.buffered -= n
    return all.subarray(0, n)
  }

  /** True when nothing follows. */
  async atEnd(): Promise<boolean> {
    return this.buffered === 0 && (await this.take(1)) === null
  }
}

export interface ArchiveReader {
  /** The Redis version the archive was made from. */
  redisVersion: string
  /** The archive's format; from 2 on, its records hold absolute expiry times. */
  format: number
  /** Every record in order; throws `corrupt` on truncation or a count mismatch. */
  records(): AsyncGenerator<DumpRecord>
}

/** Reads and checks the header, then hands out records one at a time. */
export async function openArchive(source: AsyncIterable<unknown>): Promise<ArchiveReader> {
  const reader = new ByteReader(source[Symbol.asyncIterator]())
  const need = async (n: number, what: string) => {
    const bytes = await reader.take(n)
    if (!bytes) throw corrupt(`it ends inside ${what}`)
    return bytes
  }
  const magic = await reader.take(MAGIC.length + 2)
  if (!magic || !magic.subarray(0, MAGIC.length).equals(MAGIC)) {
    if (magic && /^REDIS\d{4}/.test(magic.toString('latin1'))) {
      throw new PluginError(
        'the archive is an RDB file, made by a target in mode rdb: restore it with a target whose mode is rdb',
      )
    }
    throw corrupt('it is not a Bulwark Redis archive')
  }
  const version = magic[MAGIC.length]!
  if (!READABLE.includes(version)) {
    throw new PluginError(
      `the archive uses Redis archive format ${version}, this Bulwark reads formats ${READABLE.join(' and ')}; upgrade Bulwark`,
    )
  }
  const redisVersion = (await need(magic[MAGIC.length + 1]!, 'the header')).toString('ascii')

  async function* records(): AsyncGenerator<DumpRecord> {
    let count = 0
    for (;;) {
      const keyLength = (await need(4, `record ${count + 1}`)).readUInt32BE(0)
      if (keyLength === END) {
        const expected = (await need(8, 'the end marker')).readBigUInt64BE(0)
        if (expected !== BigInt(count)) {
          throw corrupt(`its end marker counts ${expected} keys but it holds ${count}`)
        }
        if (!(await reader.atEnd())) throw corrupt('there is data after its end marker')
        return
      }
      if (keyLength > MAX_KEY) throw corrupt(`record ${count + 1} has an impossible key length`)
      const key = await need(keyLength, `record ${count + 1}`)
      const times = version === 1 ? 8 : 16
      const meta = await need(times + 4, `record ${count + 1}`)
      const pttl = Number(meta.readBigInt64BE(0))
      const expireAt = version === 1 ? undefined : Number(meta.readBigInt64BE(8))
      const payload = await need(meta.readUInt32BE(times), `record ${count + 1}`)
      count++
      yield { key, pttl, expireAt, payload }
    }
  }
  return { redisVersion, format: version, records }
}
