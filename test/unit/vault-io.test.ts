// The vault writer and reader against the real fs store plugin in a temp
// directory: round trips, deduplication across and within archives, damage
// and loss detected and named, abort and failure leaving no manifest, and the
// memory bounds (writer window, reader read-ahead).
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { readFileSync, readdirSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import type { PluginContext, StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault, type VaultConfig } from '../../src-daemon/vault/config'
import type { MasterKey } from '../../src-daemon/vault/keys'
import {
  VaultError,
  chunkId,
  openChunk,
  sealChunk,
  type Manifest,
} from '../../src-daemon/vault/objects'
import { readArchive, verifyArchive } from '../../src-daemon/vault/reader'
import { ChunkPool } from '../../src-daemon/vault/chunk-pool'
import { MemoryChunkIndex, writeArchive, type WriteOptions } from '../../src-daemon/vault/writer'
import { tempDir } from '../helpers/daemon'

const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const MiB = 1024 * 1024
const ctx = (signal = new AbortController().signal): PluginContext => ({ signal, log: () => {} })
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Deterministic SQL-dump-like text: varying ids, names, amounts and dates. */
function sqlText(bytes: number, seed = 1): Buffer {
  let s = seed >>> 0 || 1
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 2 ** 32)
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']
  const lines: string[] = []
  let len = 0
  for (let id = 1; len < bytes; id++) {
    const line =
      `INSERT INTO orders VALUES (${id}, '${names[id % 8]}${Math.floor(rnd() * 1e5)}', ` +
      `${(rnd() * 1e4).toFixed(2)}, '${rnd() < 0.8 ? 'shipped' : 'pending'}', ` +
      `'2024-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}');\n`
    lines.push(line)
    len += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

function* pieces(buf: Buffer, size = 64 * 1024) {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size)
}
const sourceOf = (buf: Buffer) => Readable.from(pieces(buf))

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of stream) parts.push(p as Buffer)
  return Buffer.concat(parts)
}

let config: VaultConfig
let master: MasterKey
beforeAll(async () => {
  ;({ config, master } = await initVault('pw', { N: 1024 }))
})

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function newStore() {
  const path = tempDir('bulwark-vault-')
  dirs.push(path)
  return { path, endpoint: { path } }
}

function meta(archive = randomUUID()): Omit<Manifest, 'chunks' | 'size' | 'vault'> {
  return {
    version: 1,
    archive,
    taken_at: new Date().toISOString(),
    expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    target: { uuid: randomUUID(), name: 'orders', plugin: 'postgres' },
    job: null,
    store: randomUUID(),
    notes: '',
    tags: {},
  }
}

type Env = ReturnType<typeof newStore> & { index: MemoryChunkIndex }
const newEnv = (): Env => ({ ...newStore(), index: new MemoryChunkIndex() })

function write(env: Env, data: Buffer | Readable, extra: Partial<WriteOptions> = {}) {
  return writeArchive({
    store: fsStore,
    endpoint: env.endpoint,
    ctx: ctx(),
    config,
    master,
    index: env.index,
    source: Buffer.isBuffer(data) ? sourceOf(data) : data,
    manifest: meta(),
    ...extra,
  })
}

const uuidOf = (manifestKey: string) => manifestKey.slice('manifests/'.length)
const read = (env: Env, archiveUuid: string, store = fsStore, readAhead?: number) =>
  readArchive({ store, endpoint: env.endpoint, ctx: ctx(), master, archiveUuid, readAhead })
const chunkFile = (env: Env, id: string) => join(env.path, 'chunks', id.slice(0, 2), id)
const manifests = (env: Env) =>
  existsSync(join(env.path, 'manifests')) ? readdirSync(join(env.path, 'manifests')) : []

describe('vault round trip', () => {
  const random10 = randomBytes(10 * MiB)
  const mixed30 = Buffer.concat([sqlText(12 * MiB), randomBytes(6 * MiB), sqlText(12 * MiB, 7)])
  const cases: [string, Buffer][] = [
    ['0 bytes', Buffer.alloc(0)],
    ['1 byte', Buffer.of(42)],
    ['10 MiB random', random10],
    ['30 MiB mixed text', mixed30],
  ]
  for (const [name, data] of cases) {
    it(`restores ${name} exactly`, async () => {
      const env = newEnv()
      const stats = await write(env, data)
      expect(stats.size).toBe(data.length)
      const { manifest, stream } = await read(env, uuidOf(stats.manifestKey))
      expect(manifest.size).toBe(data.length)
      expect(manifest.vault).toBe(config.id)
      expect(manifest.chunks.length).toBe(stats.chunks)
      expect(sha(await collect(stream))).toBe(sha(data))
      const verified = await verifyArchive({
        store: fsStore,
        endpoint: env.endpoint,
        ctx: ctx(),
        master,
        archiveUuid: manifest.archive,
      })
      expect(verified).toEqual({ chunks: stats.chunks, bytes: data.length })
    }, 60_000)
  }

  it('round trips with everything on the main thread too', async () => {
    const env = newEnv()
    const stats = await write(env, mixed30, { sealWorkers: 0 })
    const archiveUuid = uuidOf(stats.manifestKey)
    for (const workers of [0, 2]) {
      const opts = {
        store: fsStore,
        endpoint: env.endpoint,
        ctx: ctx(),
        master,
        archiveUuid,
        workers,
      }
      const { stream } = await readArchive(opts)
      expect(sha(await collect(stream))).toBe(sha(mixed30))
      expect((await verifyArchive(opts)).bytes).toBe(mixed30.length)
    }
  })

  it('hashes and seals in workers exactly what objects.ts computes and opens', async () => {
    const pool = new ChunkPool(master, 2)
    try {
      for (const plain of [sqlText(300_000), randomBytes(300_000), Buffer.of(1)]) {
        const copy = Buffer.from(plain)
        const id = chunkId(master, copy)
        const ref = await pool.hash(plain)
        expect(ref).toMatchObject({ id, size: copy.length })
        const sealed = Buffer.concat(await pool.seal(ref))
        expect(openChunk(master, id, sealed, copy.length).equals(copy)).toBe(true)
        await expect(pool.seal(ref)).rejects.toThrow(/released/)
      }
      const dropped = await pool.hash(randomBytes(1000))
      pool.drop(dropped)
      await expect(pool.seal(dropped)).rejects.toThrow(/released/)
    } finally {
      await pool.close()
    }
    await expect(pool.hash(Buffer.of(1))).rejects.toThrow(/closed/)
  })

  it('opens in workers what openChunk opens, and leaves refusals to openChunk', async () => {
    const pool = new ChunkPool(master, 1)
    try {
      for (const plain of [sqlText(300_000), randomBytes(300_000), Buffer.of(1)]) {
        const id = chunkId(master, plain)
        const object = sealChunk(master, id, plain)
        expect((await pool.open(id, Buffer.from(object), plain.length)).equals(plain)).toBe(true)
        expect(pool.refused).toBe(0)
        const bad = Buffer.from(object)
        bad[bad.length - 20]! ^= 1
        await expect(pool.open(id, bad, plain.length)).rejects.toThrow(/authentication failed/)
        expect(pool.refused).toBe(1)
        await expect(pool.open(id, Buffer.from(object), plain.length + 1)).rejects.toThrow(
          /it holds|inflates|size/,
        )
        pool.refused = 0
      }
    } finally {
      await pool.close()
    }
  })

  it('seals chunks hashed here while the workers are busy just the same', async () => {
    const pool = new ChunkPool(master, 1)
    try {
      const plains = Array.from({ length: 8 }, (_, i) => Buffer.from(sqlText(200_000 + i, i + 1)))
      const copies = plains.map((p) => Buffer.from(p))
      const refs = await Promise.all(plains.map((p) => pool.hash(p)))
      // Transferred to the worker (detached here) or, the worker being busy, hashed here.
      expect(plains.filter((p) => p.length === 0).length).toBeGreaterThan(0)
      expect(plains.filter((p) => p.length > 0).length).toBeGreaterThan(0)
      expect(refs.map((r) => r.id)).toEqual(copies.map((c) => chunkId(master, c)))
      pool.drop(refs[7]!) // hashed here
      await expect(pool.seal(refs[7]!)).rejects.toThrow(/released/)
      const sealed = await Promise.all(refs.slice(0, 7).map((r) => pool.seal(r)))
      sealed.forEach((parts, i) => {
        const plain = openChunk(master, refs[i]!.id, Buffer.concat(parts), copies[i]!.length)
        expect(plain.equals(copies[i]!)).toBe(true)
      })
    } finally {
      await pool.close()
    }
  })

  it('hashes ahead of queued seals, and seals and drops many chunks in flight right', async () => {
    const pool = new ChunkPool(master, 1)
    pool.hashHereWhenQueued = Infinity // every chunk to the worker
    try {
      const plains = Array.from({ length: 8 }, (_, i) => sqlText(MiB + i, i + 1))
      const copies = plains.map((p) => Buffer.from(p))
      const refs = await Promise.all(plains.map((p) => pool.hash(p)))
      expect(refs.map((r) => r.id)).toEqual(copies.map((c) => chunkId(master, c)))
      const done: string[] = []
      const seals = refs.slice(0, 6).map((r, i) =>
        pool.seal(r).then((parts) => {
          done.push(`seal ${i}`)
          return parts
        }),
      )
      for (const r of refs.slice(6)) pool.drop(r)
      const late = Buffer.from(sqlText(1000, 99))
      const hashed = pool.hash(Buffer.from(late)).then((ref) => (done.push('hash'), ref))
      const sealed = await Promise.all(seals)
      expect((await hashed).id).toBe(chunkId(master, late))
      // Queued behind six seals, the hash came back before the last of them.
      expect(done.indexOf('hash')).toBeLessThan(done.indexOf('seal 5'))
      sealed.forEach((parts, i) => {
        const plain = openChunk(master, refs[i]!.id, Buffer.concat(parts), copies[i]!.length)
        expect(plain.equals(copies[i]!)).toBe(true)
      })
      await expect(pool.seal(refs[7]!)).rejects.toThrow(/released/)
    } finally {
      await pool.close()
    }
  })
})

describe('vault deduplication', () => {
  const data = Buffer.concat([sqlText(10 * MiB, 3), randomBytes(10 * MiB)])

  it('a second backup of the same data uploads no chunk', async () => {
    const env = newEnv()
    const first = await write(env, data)
    expect(first.newChunks).toBe(first.chunks)
    const second = await write(env, data)
    expect(second.newChunks).toBe(0)
    expect(second.newBytes).toBe(second.manifestBytes)
    expect(second.storedBytes).toBe(first.storedBytes)
    // Without the index (a fresh catalog) the store is asked instead: still nothing uploaded.
    const third = await write({ ...env, index: new MemoryChunkIndex() }, data)
    expect(third.newChunks).toBe(0)
    expect(third.storedBytes).toBe(first.storedBytes)
  })

  it('a 1-byte insertion at the start re-uploads only the chunks around it', async () => {
    const env = newEnv()
    const first = await write(env, data)
    const second = await write(env, Buffer.concat([Buffer.of(0x0a), data]))
    console.log(`insertion: ${second.newChunks} of ${second.chunks} chunks re-uploaded`)
    expect(first.chunks).toBeGreaterThan(10)
    expect(second.newChunks).toBeGreaterThanOrEqual(1)
    expect(second.newChunks).toBeLessThanOrEqual(2)
  })

  it('a chunk repeated within one archive is uploaded once', async () => {
    const env = newEnv()
    const block = randomBytes(3 * MiB)
    const stats = await write(env, Buffer.concat([block, block, block, block]))
    const { manifest, stream } = await read(env, uuidOf(stats.manifestKey))
    const distinct = new Set(manifest.chunks.map(([id]) => id))
    expect(distinct.size).toBeLessThan(manifest.chunks.length)
    expect(stats.newChunks).toBe(distinct.size)
    expect((await collect(stream)).length).toBe(12 * MiB)
  })
})

describe('vault damage', () => {
  async function stored() {
    const env = newEnv()
    const data = randomBytes(6 * MiB)
    const stats = await write(env, data)
    const uuid = uuidOf(stats.manifestKey)
    const { manifest } = await read(env, uuid)
    return { env, uuid, manifest }
  }

  it('a flipped byte in a chunk fails the stream naming the archive and the chunk', async () => {
    const { env, uuid, manifest } = await stored()
    const [id] = manifest.chunks[2]!
    const file = chunkFile(env, id)
    const bytes = readFileSync(file)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40
    writeFileSync(file, bytes)
    const n = manifest.chunks.length
    const where = `archive ${uuid}: chunk ${id.slice(0, 12)} (#3 of ${n})`
    for (const workers of [0, 1]) {
      const opts = {
        store: fsStore,
        endpoint: env.endpoint,
        ctx: ctx(),
        master,
        archiveUuid: uuid,
        workers,
      }
      const { stream } = await readArchive(opts)
      await expect(collect(stream)).rejects.toThrow(`${where} is corrupt: authentication failed`)
    }
    const verify = verifyArchive({
      store: fsStore,
      endpoint: env.endpoint,
      ctx: ctx(),
      master,
      archiveUuid: uuid,
    })
    await expect(verify).rejects.toThrow(where)
  })

  it('a deleted chunk fails the stream naming it', async () => {
    const { env, uuid, manifest } = await stored()
    const [id] = manifest.chunks[1]!
    rmSync(chunkFile(env, id))
    const { stream } = await read(env, uuid)
    const err = await collect(stream).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VaultError)
    expect((err as VaultError).code).toBe('missing')
    expect((err as Error).message).toContain(`archive ${uuid}: chunk ${id.slice(0, 12)} (#2 of `)
    expect((err as Error).message).toContain('missing')
  })

  it('a truncated manifest is a VaultError; a missing one names the archive', async () => {
    const { env, uuid } = await stored()
    const file = join(env.path, 'manifests', uuid)
    truncateSync(file, readFileSync(file).length - 5)
    const err = await read(env, uuid).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VaultError)
    expect((err as VaultError).code).toBe('corrupt')
    expect((err as Error).message).toContain(uuid)
    const other = randomUUID()
    const missing = await read(env, other).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(VaultError)
    expect((missing as VaultError).code).toBe('missing')
    expect((missing as Error).message).toContain(other)
  })
})

/** The fs store with each put delayed, counting puts in flight. */
function slowStore(delayMs: number, failAfter = Infinity) {
  const state = { active: 0, puts: 0, gets: 0 }
  const store: StorePlugin = {
    ...fsStore,
    put: async (endpoint, key, data, c) => {
      state.active++
      try {
        await sleep(delayMs)
        if (++state.puts > failAfter) throw new Error('disk on fire')
        return await fsStore.put(endpoint, key, data, c)
      } finally {
        state.active--
      }
    },
    get: (endpoint, key, c) => {
      if (key.startsWith('chunks/')) state.gets++
      return fsStore.get(endpoint, key, c)
    },
  }
  return { store, state }
}

/** An endless fast source: 1 MiB buffers (random) generated on demand. */
function generated(total: number): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null)
      const n = Math.min(MiB, total - sent)
      sent += n
      this.push(randomBytes(n))
    },
  })
}

describe('vault failure and abort', () => {
  it('abort mid-write rejects PluginAbortedError and leaves no manifest', async () => {
    const env = newEnv()
    const { store, state } = slowStore(20)
    const ac = new AbortController()
    const source = generated(64 * MiB)
    const p = write(env, source, {
      store,
      ctx: ctx(ac.signal),
      onProgress: (b) => b > 8 * MiB && ac.abort(),
    })
    await expect(p).rejects.toBeInstanceOf(PluginAbortedError)
    expect(state.active).toBe(0)
    expect(source.destroyed).toBe(true)
    expect(manifests(env)).toEqual([])
  })

  it('a failed upload rejects once in-flight uploads settle, and writes no manifest', async () => {
    const env = newEnv()
    const { store, state } = slowStore(5, 3)
    await expect(write(env, randomBytes(16 * MiB), { store })).rejects.toThrow('disk on fire')
    expect(state.active).toBe(0)
    expect(manifests(env)).toEqual([])
  })
})

describe('vault memory bounds', () => {
  it('writing 200 MiB through a slow store keeps RSS growth bounded', async () => {
    const env = newEnv()
    const { store } = slowStore(15)
    global.gc?.()
    const base = process.memoryUsage().rss
    let peak = base
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
    try {
      const stats = await write(env, generated(200 * MiB), { store })
      expect(stats.size).toBe(200 * MiB)
    } finally {
      clearInterval(timer)
    }
    peak = Math.max(peak, process.memoryUsage().rss)
    const growth = (peak - base) / MiB
    console.log(`RSS growth writing 200 MiB through a slow store: ${growth.toFixed(1)} MiB`)
    expect(growth).toBeLessThan(120)
  }, 120_000)

  it('the reader fetches at most readAhead chunks ahead of the consumer', async () => {
    const { config: small } = {
      config: { ...config, chunking: { ...config.chunking, min: 4096, avg: 16384, max: 65536 } },
    }
    const env = newEnv()
    const data = randomBytes(2 * MiB)
    const stats = await write(env, data, { config: small })
    expect(stats.chunks).toBeGreaterThan(40)
    for (const readAhead of [1, 3]) {
      const { store, state } = slowStore(0)
      const { stream } = await read(env, uuidOf(stats.manifestKey), store, readAhead)
      let consumed = 0
      let worst = 0
      const parts: Buffer[] = []
      for await (const part of stream) {
        consumed++
        parts.push(part as Buffer)
        await sleep(2)
        worst = Math.max(worst, state.gets - consumed)
      }
      expect(sha(Buffer.concat(parts))).toBe(sha(data))
      expect(worst).toBeGreaterThanOrEqual(readAhead - 1)
      expect(worst).toBeLessThanOrEqual(readAhead + 1)
    }
  })
})
