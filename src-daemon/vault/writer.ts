// Writing one archive into a vault: the source stream is cut into
// content-defined chunks, each chunk is named by its keyed id, and only chunks
// the vault does not hold yet are sealed and uploaded (chunk-sink.ts, shared
// with the tree writer); the manifest goes last,
// so an archive exists only once all of its chunks do. A bounded number of
// chunks is in flight at once: while the window is full the source is not
// read, so backpressure reaches the dump and memory stays near
// concurrency × max chunk size whatever the archive's size. The main thread
// cuts chunks (and hashes some when the worker is busy); hashing and sealing
// (zstd + AES) run on a worker thread (chunk-pool.ts), which on two cores
// beats doing it inline (npm run bench measures the writer).
// On failure or abort reading stops, in-flight uploads settle, and no
// manifest is written.
import { setMaxListeners } from 'node:events'
import type { Readable } from 'node:stream'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { Chunker, gearTable } from './chunker'
import type { VaultConfig } from './config'
import type { MasterKey } from './keys'
import { manifestKey, sealManifest, type Manifest } from './objects'
import { defaultWorkers } from './chunk-pool'
import { ChunkSink, type ChunkIndex } from './chunk-sink'
import { mapLimit } from '../platform/concurrency'

export type { ChunkIndex }

/** An in-memory ChunkIndex (tests, benchmarks, one-off tools). */
export class MemoryChunkIndex implements ChunkIndex {
  readonly sizes = new Map<string, number>()
  has(id: string): boolean {
    return this.sizes.has(id)
  }
  add(id: string, storedSize: number): void {
    this.sizes.set(id, storedSize)
  }
  storedSize(id: string): number | undefined {
    return this.sizes.get(id)
  }
}

export interface WriteStats {
  /** Plaintext bytes of the archive. */
  size: number
  /** Chunk references in the manifest (a chunk repeated within the archive counts each time). */
  chunks: number
  /** Chunks this write uploaded. */
  newChunks: number
  /** Stored (compressed + encrypted) bytes this write uploaded: new chunks plus the manifest. */
  newBytes: number
  /** Stored size of every distinct chunk the archive references (when the index knows it). */
  storedBytes: number
  /** Stored size of the manifest (included in newBytes). */
  manifestBytes: number
  manifestKey: string
}

/** What a remote chunker (an agent) asks before sending a chunk: does the vault hold it? */
export interface ChunkClaims {
  /** True if the vault (or this archive) has the chunk: it is not sent. */
  known(id: string): Promise<boolean>
}

/**
 * A chunk cut elsewhere (by an agent): its keyed id and size, and its
 * plaintext when the vault lacks it (null when known); the plaintext is
 * hashed again here, so a chunk whose bytes do not match its id is refused.
 */
export interface RemoteChunk {
  id: string
  size: number
  data: Promise<Buffer> | null
  /** Called once the store holds it (or it was known). */
  stored?(): void
}

export interface WriteOptions {
  store: StorePlugin
  endpoint: Endpoint
  ctx: PluginContext
  config: VaultConfig
  master: MasterKey
  index: ChunkIndex
  /** The archive's bytes, cut into chunks here... */
  source?: Readable
  /** ...or its chunks, cut elsewhere (an agent), given what the vault knows. */
  remote?: (claims: ChunkClaims) => AsyncIterable<RemoteChunk>
  manifest: Omit<Manifest, 'chunks' | 'size' | 'vault'>
  /** Called with the plaintext bytes read so far. */
  onProgress?(bytes: number): void
  /** Chunks in flight at once (being checked, sealed or uploaded). Default 8. */
  concurrency?: number
  /**
   * Threads that hash and seal chunks; 0 does it all on the main thread.
   * Default: one per core beyond the main thread's, at most 2 (on 2 cores: 1,
   * measured fastest there).
   */
  sealWorkers?: number
  /** zstd level for chunks. */
  level?: number
}

export const DEFAULT_CONCURRENCY = 8

export const defaultSealWorkers = defaultWorkers

const toBuffer = (data: unknown): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data as string | Uint8Array)

export async function writeArchive(opts: WriteOptions): Promise<WriteStats> {
  const { store, endpoint, config, master, source } = opts
  const signal = opts.ctx.signal
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY))
  const workers = Math.max(0, Math.floor(opts.sealWorkers ?? defaultSealWorkers()))
  // Store calls get a signal of their own: aborted with the caller's, and (by
  // mapLimit) on the first failure, so the other uploads stop early instead of
  // running to the end.
  const stop = new AbortController()
  setMaxListeners(concurrency + 10, stop.signal)
  const mkey = manifestKey(opts.manifest.archive) // a bad uuid fails now, not after the upload
  const chunker = new Chunker(gearTable(master.idKey), config.chunking)
  const list: [string, number][] = []
  const sink = new ChunkSink({ ...opts, sealWorkers: workers })

  /** Names chunk #seq in the list once the store holds it (or this archive put it). */
  const putChunk = async (plaintext: Buffer, seq: number, stopped: AbortSignal): Promise<void> => {
    list[seq] = ['', plaintext.length] // the id comes once hashed
    list[seq]![0] = await sink.put(plaintext, stopped)
  }

  /** A chunk cut by an agent: stored (its bytes checked against its id) unless the vault knows it. */
  const putRemote = async (c: RemoteChunk, seq: number, stopped: AbortSignal): Promise<void> => {
    list[seq] = [c.id, c.size]
    if (c.data) await sink.putClaimed(await c.data, c.id, stopped)
    c.stored?.()
  }
  const remote = opts.remote?.(sink)[Symbol.asyncIterator]()
  if (!source === !remote) throw new Error('writeArchive needs a source or remote chunks')

  const onAbort = () => {
    stop.abort()
    source?.destroy(new PluginAbortedError())
  }
  signal.addEventListener('abort', onAbort, { once: true })
  let size = 0
  /** The source's chunks in order, read only as the window has room for them. */
  async function* cut(): AsyncGenerator<Buffer> {
    const ready: Buffer[] = []
    const emit = (c: Buffer) => ready.push(c)
    for await (const part of source!) {
      const data = toBuffer(part)
      chunker.push(data, emit)
      // Each chunk is dropped from `ready` as it is handed on.
      while (ready.length > 0) yield ready.shift()!
      size += data.length
      opts.onProgress?.(size)
    }
    chunker.finish(emit)
    while (ready.length > 0) yield ready.shift()!
  }
  try {
    if (signal.aborted) {
      onAbort()
      throw new PluginAbortedError()
    }
    if (remote) {
      await mapLimit({ [Symbol.asyncIterator]: () => remote }, concurrency, putRemote, stop.signal)
      size = list.reduce((n, [, length]) => n + length, 0)
    } else await mapLimit(cut(), concurrency, putChunk, stop.signal)
    if (signal.aborted) throw new PluginAbortedError()

    const manifest: Manifest = {
      ...opts.manifest,
      version: 1,
      vault: config.id,
      size,
      chunks: list,
    }
    const sealed = sealManifest(master, manifest)
    if (signal.aborted) throw new PluginAbortedError()
    await store.put(endpoint, mkey, retryableBody([sealed]), { ...opts.ctx, signal: stop.signal })
    return {
      size,
      chunks: list.length,
      newChunks: sink.stats.newChunks,
      newBytes: sink.stats.newBytes + sealed.length,
      storedBytes: sink.stats.storedBytes,
      manifestBytes: sealed.length,
      manifestKey: mkey,
    }
  } catch (err) {
    source?.destroy()
    await remote?.return?.()
    stop.abort()
    if (signal.aborted) throw new PluginAbortedError()
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
    await sink.close()
  }
}
