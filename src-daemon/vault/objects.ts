// Chunk and manifest objects of the vault format (docs/vault-format.md): keyed
// chunk ids, the BWC1/BWM1 encodings (zstd, then AES-256-GCM bound to the
// object's name), and the checks a reader makes before trusting a byte. Every
// failure is a VaultError naming the object. Pure functions over Buffers; the
// store I/O lives elsewhere.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import * as zstd from 'zstd-napi'
import type { MasterKey } from './keys'
import type { TreeRef } from './tree'

export type VaultErrorCode = 'wrong_password' | 'corrupt' | 'missing' | 'unsupported'

export class VaultError extends Error {
  readonly code: VaultErrorCode
  /** The store object found missing or damaged, when the error is about one. */
  readonly key?: string

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown; key?: string }) {
    super(message, options)
    this.name = 'VaultError'
    this.code = code
    this.key = options?.key
  }
}

/** Whether the error proves an object of the archive missing or damaged (not a password or a store failure). */
export const isDamage = (err: unknown): err is VaultError =>
  err instanceof VaultError && (err.code === 'missing' || err.code === 'corrupt')

export interface Manifest {
  version: 1
  vault: string
  archive: string
  taken_at: string
  expires_at: string
  size: number
  chunks: [string, number][]
  /** location: where the target pointed (its non-secret endpoint fields, as text), when known. */
  target: { uuid: string; name: string; plugin: string; location?: string }
  job: { uuid: string; name: string } | null
  store: string
  notes: string
  tags: Record<string, string>
  /**
   * A directory archive's tree (docs/vault-format.md "Tree archives"); then
   * `chunks` lists every distinct chunk the archive references, once each
   * (the files' content and the tree's own), and `size` is their sum.
   */
  tree?: TreeRef
}

const CHUNK_MAGIC = Buffer.from('BWC1')
const MANIFEST_MAGIC = Buffer.from('BWM1')
const NONCE = 12
const TAG = 16
const HEADER = 4 + NONCE
/** The largest chunk the format allows (the chunker's own ceiling). */
export const MAX_CHUNK_SIZE = 256 * 1024 * 1024
/** The largest manifest JSON a reader inflates. */
export const MAX_MANIFEST_SIZE = 256 * 1024 * 1024
/**
 * zstd level for chunks and manifests: encoder-side only (a reader neither
 * knows nor cares). Level 1 compresses pg_dump-like text about twice as fast
 * as level 3 (~420 vs ~200 MiB/s here) for ~2% more output.
 */
export const DEFAULT_ZSTD_LEVEL = 1

const ID_RE = /^[0-9a-f]{64}$/
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

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

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const isStr = (x: unknown): x is string => typeof x === 'string'

/** Validates a manifest's shape and returns a copy holding only the format's fields. */
function checkManifest(x: unknown, name: string): Manifest {
  const bad = (why: string) => new VaultError('corrupt', `${name} is corrupt: ${why}`)
  if (!isObj(x)) throw bad('not an object')
  if (x.version !== 1) {
    throw new VaultError(
      'unsupported',
      `${name} has version ${String(x.version)}; this Bulwark reads 1`,
    )
  }
  for (const f of ['vault', 'archive', 'taken_at', 'expires_at', 'store', 'notes'] as const) {
    if (!isStr(x[f])) throw bad(`"${f}" is not a string`)
  }
  if (!UUID_RE.test(x.archive as string)) throw bad('"archive" is not a uuid')
  for (const f of ['taken_at', 'expires_at'] as const) {
    if (Number.isNaN(Date.parse(x[f] as string))) throw bad(`"${f}" is not a date`)
  }
  const size = x.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('bad "size"')
  if (!Array.isArray(x.chunks)) throw bad('"chunks" is not a list')
  const chunks: [string, number][] = []
  let sum = 0
  for (const c of x.chunks as unknown[]) {
    if (!Array.isArray(c) || c.length !== 2 || !isStr(c[0]) || !ID_RE.test(c[0])) {
      throw bad(`chunk entry ${chunks.length} is malformed`)
    }
    const n: unknown = c[1]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CHUNK_SIZE) {
      throw bad(`chunk entry ${chunks.length} has a bad size`)
    }
    chunks.push([c[0], n])
    sum += n
  }
  if (sum !== size) throw bad(`its chunks add up to ${sum} bytes, not ${size}`)
  const t = x.target
  if (!isObj(t) || !isStr(t.uuid) || !isStr(t.name) || !isStr(t.plugin)) throw bad('bad "target"')
  const j = x.job
  if (j !== null && (!isObj(j) || !isStr(j.uuid) || !isStr(j.name))) throw bad('bad "job"')
  if (!isObj(x.tags) || !Object.values(x.tags).every(isStr)) throw bad('bad "tags"')
  const tree = x.tree === undefined ? undefined : checkTreeRef(x.tree, chunks, bad)
  return {
    version: 1,
    vault: x.vault as string,
    archive: x.archive as string,
    taken_at: x.taken_at as string,
    expires_at: x.expires_at as string,
    size,
    chunks,
    target: {
      uuid: t.uuid,
      name: t.name,
      plugin: t.plugin,
      ...(isStr(t.location) ? { location: t.location } : {}),
    },
    job: j === null ? null : { uuid: j.uuid as string, name: j.name as string },
    store: x.store as string,
    notes: x.notes as string,
    tags: { ...(x.tags as Record<string, string>) },
    ...(tree ? { tree } : {}),
  }
}

/** A manifest's tree reference: its chunks well formed and all listed in the manifest's chunks. */
function checkTreeRef(
  x: unknown,
  listed: [string, number][],
  bad: (why: string) => VaultError,
): TreeRef {
  if (!isObj(x)) throw bad('"tree" is not an object')
  if (x.version !== 1) {
    throw new VaultError(
      'unsupported',
      `its tree has version ${String(x.version)}; this Bulwark reads 1`,
    )
  }
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  if (!count(x.entries) || !count(x.files) || !count(x.bytes)) throw bad('"tree" has bad counts')
  if (!Array.isArray(x.chunks)) throw bad('"tree.chunks" is not a list')
  const known = new Map(listed)
  const chunks = (x.chunks as unknown[]).map((c, i): [string, number] => {
    if (!Array.isArray(c) || c.length !== 2 || !isStr(c[0]) || known.get(c[0]) !== c[1]) {
      throw bad(`tree chunk ${i} is malformed or not among the archive's chunks`)
    }
    return [c[0], c[1] as number]
  })
  return {
    version: 1,
    chunks,
    entries: x.entries as number,
    files: x.files as number,
    bytes: x.bytes as number,
  }
}
