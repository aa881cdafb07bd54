// Chunk and manifest objects of the vault format (docs/vault-format.md): keyed
// chunk ids, the BWC1/BWM1 encodings (zstd, then AES-256-GCM bound to the
// object's name), and the checks a reader makes before trusting a byte. Every
// failure is a VaultError naming the object. Pure functions over Buffers; the
// store I/O lives elsewhere.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import * as zstd from 'zstd-napi'
import type { MasterKey } from './keys'
import { ID_RE, MAX_CHUNK_SIZE, UUID_RE, checkManifest, type Manifest } from './manifest'
import { VaultError } from './vault-error'

export { MAX_CHUNK_SIZE, UUID_RE, type Manifest } from './manifest'
export { VaultError, isDamage, type VaultErrorCode } from './vault-error'

const CHUNK_MAGIC = Buffer.from('BWC1')
const MANIFEST_MAGIC = Buffer.from('BWM1')
const NONCE = 12
const TAG = 16
const HEADER = 4 + NONCE
/** The largest manifest JSON a reader inflates. */
export const MAX_MANIFEST_SIZE = 256 * 1024 * 1024
/**
 * zstd level for chunks and manifests: encoder-side only (a reader neither
 * knows nor cares). Level 1: much faster than level 3 on dump-like text for
 * a little more output (figures: README, Performance).
 */
export const DEFAULT_ZSTD_LEVEL = 1

const short = (id: string) => (id.length > 12 ? `${id.slice(0, 12)}…` : id)
const chunkName = (id: string) => `chunk ${short(id)}`

/** Lowercase hex HMAC-SHA256(id_key, plaintext). */
export function chunkId(master: MasterKey, plaintext: Buffer): string {
  return createHmac('sha256', master.idKey).update(plaintext).digest('hex')
}

/** Where the store keeps chunk objects (under a shard of two hex digits) and manifests. */
export const CHUNKS_PREFIX = 'chunks/'
export const MANIFESTS_PREFIX = 'manifests/'

export function chunkKey(id: string): string {
  if (!ID_RE.test(id)) throw new Error(`invalid chunk id "${id}"`)
  return `${CHUNKS_PREFIX}${id.slice(0, 2)}/${id}`
}

/** The chunk id whose chunkKey is `key`; undefined for any other key (in the wrong shard too). */
export function parseChunkKey(key: string): string | undefined {
  const id = key.slice(key.lastIndexOf('/') + 1)
  return ID_RE.test(id) && key === `${CHUNKS_PREFIX}${id.slice(0, 2)}/${id}` ? id : undefined
}

export function manifestKey(archiveUuid: string): string {
  if (!UUID_RE.test(archiveUuid)) throw new Error(`invalid archive uuid "${archiveUuid}"`)
  return `${MANIFESTS_PREFIX}${archiveUuid}`
}

/** The archive uuid whose manifestKey is `key`; undefined for any other key. */
export function parseManifestKey(key: string): string | undefined {
  const uuid = key.slice(MANIFESTS_PREFIX.length)
  return key.startsWith(MANIFESTS_PREFIX) && UUID_RE.test(uuid) ? uuid : undefined
}

function seal(magic: Buffer, encKey: Buffer, aad: string, parts: Buffer[]): Buffer {
  const nonce = randomBytes(NONCE)
  const cipher = createCipheriv('aes-256-gcm', encKey, nonce)
  cipher.setAAD(Buffer.from(aad))
  const out = [magic, nonce, ...parts.map((p) => cipher.update(p)), cipher.final()]
  out.push(cipher.getAuthTag())
  return Buffer.concat(out)
}

/** Checks magic and length, then authenticates; returns the body. */
function open(magic: Buffer, encKey: Buffer, aad: string, object: Buffer, name: string): Buffer {
  const head = object.subarray(0, 4)
  if (!head.equals(magic)) {
    // "BWC2" and the like: a later version of the format, not damage.
    const later = head.length === 4 && head.subarray(0, 3).equals(magic.subarray(0, 3))
    if (later && head[3]! >= 0x32 && head[3]! <= 0x39) {
      const v = head.toString('latin1')
      throw new VaultError(
        'unsupported',
        `${name} has format ${v}, unknown to this Bulwark (written by a newer version, or damaged)`,
      )
    }
    throw new VaultError('corrupt', `${name} is corrupt: bad magic (not a vault object)`)
  }
  if (object.length < HEADER + TAG) {
    throw new VaultError('corrupt', `${name} is corrupt: truncated to ${object.length} bytes`)
  }
  const decipher = createDecipheriv('aes-256-gcm', encKey, object.subarray(4, HEADER))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(object.subarray(object.length - TAG))
  try {
    const body = decipher.update(object.subarray(HEADER, object.length - TAG))
    decipher.final()
    return body
  } catch (err) {
    throw new VaultError(
      'corrupt',
      `${name} is corrupt: authentication failed (the object was modified, truncated or swapped)`,
      { cause: err },
    )
  }
}

/**
 * The content size a zstd payload declares, after checking that it is exactly
 * one frame that declares one (RFC 8878 frame and block headers), so memory
 * is bounded before anything is inflated.
 */
function zstdContentSize(buf: Buffer, name: string): number {
  const bad = (why: string) => new VaultError('corrupt', `${name} is corrupt: ${why}`)
  if (buf.length < 6 || buf.readUInt32LE(0) !== 0xfd2fb528) throw bad('not a zstd frame')
  const fhd = buf[4]!
  const fcsFlag = fhd >> 6
  const single = (fhd >> 5) & 1
  if (fhd & 0x08) throw bad('zstd frame header has a reserved bit set')
  let pos = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!
  if (fcsBytes === 0) throw bad('zstd frame does not declare its content size')
  if (pos + fcsBytes > buf.length) throw bad('zstd frame header is truncated')
  let size: number
  if (fcsBytes === 1) size = buf[pos]!
  else if (fcsBytes === 2) size = buf.readUInt16LE(pos) + 256
  else if (fcsBytes === 4) size = buf.readUInt32LE(pos)
  else {
    const big = buf.readBigUInt64LE(pos)
    size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big)
  }
  pos += fcsBytes
  for (let last = 0; !last;) {
    if (pos + 3 > buf.length) throw bad('zstd frame is truncated')
    const h = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16)
    const type = (h >> 1) & 3
    if (type === 3) throw bad('zstd block has a reserved type')
    last = h & 1
    pos += 3 + (type === 1 ? 1 : h >>> 3)
  }
  if ((fhd >> 2) & 1) pos += 4
  if (pos !== buf.length) throw bad('zstd payload is not exactly one frame')
  return size
}

function inflate(payload: Buffer, cap: number, name: string): Buffer {
  const size = zstdContentSize(payload, name)
  if (size > cap) {
    throw new VaultError(
      'corrupt',
      `${name} is corrupt: it inflates to ${size} bytes (at most ${cap})`,
    )
  }
  let out: Buffer
  try {
    out = zstd.decompress(payload)
  } catch (err) {
    throw new VaultError('corrupt', `${name} is corrupt: zstd failed (${(err as Error).message})`, {
      cause: err,
    })
  }
  if (out.length !== size) throw new VaultError('corrupt', `${name} is corrupt: zstd size mismatch`)
  return out
}

/** BWC1 | nonce | AES-256-GCM(flag | payload, aad "chunk:" + id) | tag; zstd kept only if smaller. */
export function sealChunk(
  master: MasterKey,
  id: string,
  plaintext: Buffer,
  level = DEFAULT_ZSTD_LEVEL,
): Buffer {
  if (!ID_RE.test(id)) throw new Error(`invalid chunk id "${id}"`)
  if (plaintext.length > MAX_CHUNK_SIZE)
    throw new Error(`chunk of ${plaintext.length} bytes is too big`)
  const packed = zstd.compress(plaintext, { compressionLevel: level })
  const [flag, payload] = packed.length < plaintext.length ? [1, packed] : [0, plaintext]
  return seal(CHUNK_MAGIC, master.encKey, `chunk:${id}`, [Buffer.of(flag), payload])
}

/**
 * Opens a chunk object fetched under `id`: magic, authentication bound to the
 * id, decompression (bounded by expectedSize, else the format's maximum), and
 * finally HMAC(id_key, plaintext) == id and the expected size.
 */
export function openChunk(
  master: MasterKey,
  id: string,
  object: Buffer,
  expectedSize?: number,
): Buffer {
  const name = chunkName(id)
  if (!ID_RE.test(id)) throw new VaultError('corrupt', `${name} has an invalid id`)
  const body = open(CHUNK_MAGIC, master.encKey, `chunk:${id}`, object, name)
  if (body.length === 0) throw new VaultError('corrupt', `${name} is corrupt: empty body`)
  const flag = body[0]!
  const payload = body.subarray(1)
  const cap = expectedSize ?? MAX_CHUNK_SIZE
  let plaintext: Buffer
  if (flag === 0) plaintext = payload
  else if (flag === 1) plaintext = inflate(payload, cap, name)
  else
    throw new VaultError(
      'unsupported',
      `${name} uses body encoding ${flag}, unknown to this Bulwark`,
    )
  if (expectedSize !== undefined && plaintext.length !== expectedSize) {
    throw new VaultError(
      'corrupt',
      `${name} is corrupt: it holds ${plaintext.length} bytes, the manifest lists ${expectedSize}`,
    )
  }
  if (chunkId(master, plaintext) !== id) {
    throw new VaultError('corrupt', `${name} is corrupt: its content does not match its id`)
  }
  return plaintext
}

/** BWM1 | nonce | AES-256-GCM(zstd(JSON), aad "manifest:" + archive uuid) | tag. */
export function sealManifest(master: MasterKey, m: Manifest): Buffer {
  const clean = checkManifest(m, `manifest ${m.archive}`)
  const json = Buffer.from(JSON.stringify(clean))
  const packed = zstd.compress(json, { compressionLevel: DEFAULT_ZSTD_LEVEL })
  return seal(MANIFEST_MAGIC, master.encKey, `manifest:${clean.archive}`, [packed])
}

export function openManifest(master: MasterKey, archiveUuid: string, object: Buffer): Manifest {
  const name = `manifest ${archiveUuid}`
  const body = open(MANIFEST_MAGIC, master.encKey, `manifest:${archiveUuid}`, object, name)
  const json = inflate(body, MAX_MANIFEST_SIZE, name)
  let parsed: unknown
  try {
    parsed = JSON.parse(json.toString('utf8'))
  } catch {
    throw new VaultError('corrupt', `${name} is corrupt: not JSON`)
  }
  const m = checkManifest(parsed, name)
  if (m.archive !== archiveUuid) {
    throw new VaultError('corrupt', `${name} is corrupt: it describes archive ${m.archive}`)
  }
  return m
}
