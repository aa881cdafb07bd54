// Vault blobs: a whole archive as one encrypted object, for stores that can
// only keep opaque blobs under keys they choose (external protocol plugins),
// so there is no vault.json to hold a key and no way to look chunks up. Each
// blob is self-contained: a header with its own scrypt salt (the store's vault
// password derives the blob's master key), then sealed chunk records in order,
// then the sealed manifest, then an end marker. Chunks are the vault's own
// objects (compressed, encrypted, bound to their ids); the manifest at the end
// detects truncation, reordering and missing chunks.
//
//   "BWB1" | N u32 | r u32 | p u32 | salt (32) | blob id (16)
//   records: type u8 | length u32 | payload
//     1 chunk:    id (32 raw bytes) | chunk object
//     2 manifest: manifest object
//   0 end (length 0)
import { randomBytes, randomUUID, scrypt } from 'node:crypto'
import { Readable } from 'node:stream'
import { ByteReader } from '../../plugins/sdk/bytes'
import { Chunker, DEFAULT_CHUNKING, gearTable } from './chunker'
import { masterKeyFromRaw, type MasterKey } from './keys'
import {
  chunkId,
  openChunk,
  openManifest,
  sealChunk,
  sealManifest,
  VaultError,
  type Manifest,
} from './objects'

const MAGIC = 'BWB1'
const HEADER = 4 + 12 + 32 + 16
const CHUNK = 1
const MANIFEST = 2
const END = 0
export const BLOB_SCRYPT_N = 2 ** 17

function deriveMaster(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
): Promise<MasterKey> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      64,
      { N, r, p, maxmem: 128 * N * r * 2 + 16 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(masterKeyFromRaw(key))),
    ),
  )
}

const record = (type: number, payload: Buffer) => {
  const head = Buffer.alloc(5)
  head.writeUInt8(type, 0)
  head.writeUInt32BE(payload.length, 1)
  return [head, payload]
}

export type BlobManifest = Omit<Manifest, 'chunks' | 'size' | 'vault'>

/** Seals a stream into a vault blob (as a stream). `manifest.archive` names it. */
export function sealBlob(
  source: Readable,
  password: string,
  manifest: BlobManifest,
  N = BLOB_SCRYPT_N,
): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const salt = randomBytes(32)
    const blobId = Buffer.from(randomUUID().replace(/-/g, ''), 'hex')
    const master = await deriveMaster(password, salt, N, 8, 1)
    const header = Buffer.alloc(HEADER)
    header.write(MAGIC, 0, 'ascii')
    header.writeUInt32BE(N, 4)
    header.writeUInt32BE(8, 8)
    header.writeUInt32BE(1, 12)
    salt.copy(header, 16)
    blobId.copy(header, 48)
    yield header
    const chunker = new Chunker(gearTable(master.idKey), DEFAULT_CHUNKING)
    const chunks: [string, number][] = []
    let size = 0
    const pending: Buffer[] = []
    const take = (plain: Buffer) => {
      const id = chunkId(master, plain)
      chunks.push([id, plain.length])
      size += plain.length
      pending.push(
        ...record(CHUNK, Buffer.concat([Buffer.from(id, 'hex'), sealChunk(master, id, plain)])),
      )
    }
    for await (const data of source) {
      chunker.push(data as Buffer, take)
      while (pending.length) yield pending.shift()!
    }
    chunker.finish(take)
    while (pending.length) yield pending.shift()!
    const vault = hexUuid(blobId)
    yield* record(MANIFEST, sealManifest(master, { ...manifest, vault, chunks, size }))
    yield* record(END, Buffer.alloc(0))
  }
  return Readable.from(generate(), { objectMode: false })
}

const hexUuid = (b: Buffer) => {
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Opens a vault blob: a stream of the archive's bytes, each chunk authenticated
 * as it arrives; the stream errors (never ends cleanly) unless the manifest at
 * the end confirms every chunk, in order, and nothing follows the end marker.
 */
export function openBlob(blob: Readable, password: string, archiveUuid: string): Readable {
  const name = `archive ${archiveUuid}`
  async function* generate(): AsyncGenerator<Buffer> {
    const bytes = new ByteReader(
      blob,
      () => new VaultError('corrupt', `${name}: the blob is truncated`),
    )
    const header = await bytes.exact(HEADER)
    if (header.toString('ascii', 0, 4) !== MAGIC)
      throw new VaultError('corrupt', `${name}: not a vault blob`)
    const [N, r, p] = [header.readUInt32BE(4), header.readUInt32BE(8), header.readUInt32BE(12)]
    if (N < 1024 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
      throw new VaultError(
        'corrupt',
        `${name}: implausible key derivation parameters in the blob header`,
      )
    }
    const master = await deriveMaster(password, header.subarray(16, 48), N, r, p)
    const seen: [string, number][] = []
    for (;;) {
      const head = await bytes.exact(5)
      const type = head.readUInt8(0)
      const length = head.readUInt32BE(1)
      const payload = await bytes.exact(length)
      if (type === CHUNK) {
        const id = payload.subarray(0, 32).toString('hex')
        let plain: Buffer
        try {
          plain = openChunk(master, id, payload.subarray(32))
        } catch (err) {
          if (seen.length === 0 && err instanceof VaultError && err.code === 'corrupt') {
            throw new VaultError(
              'wrong_password',
              `${name}: the vault password is wrong, or the blob is damaged`,
            )
          }
          throw new VaultError(
            'corrupt',
            `${name}: chunk #${seen.length + 1}: ${(err as Error).message}`,
          )
        }
        seen.push([id, plain.length])
        yield plain
      } else if (type === MANIFEST) {
        const m = openManifest(master, archiveUuid, payload)
        const same =
          m.chunks.length === seen.length &&
          m.chunks.every(([id, n], i) => seen[i]?.[0] === id && seen[i]?.[1] === n)
        if (!same) throw new VaultError('corrupt', `${name}: its chunks do not match its manifest`)
        const end = await bytes.exact(5)
        if (end.readUInt8(0) !== END || !(await bytes.atEnd())) {
          throw new VaultError('corrupt', `${name}: data after the end of the blob`)
        }
        return
      } else {
        throw new VaultError('corrupt', `${name}: unknown record type ${type}`)
      }
    }
  }
  return Readable.from(generate(), { objectMode: false })
}
