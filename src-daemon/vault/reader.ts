// Reading one archive back out of a vault: the manifest is fetched and
// authenticated first, then the chunks' plaintexts are streamed in order. A
// few chunks are fetched ahead of the consumer, and no more: a chunk is
// requested only when the consumer has taken one, so memory stays near
// readAhead × chunk size however big the archive. Every chunk is
// authenticated against its id and the size the manifest lists before a byte
// of it is emitted; a missing or damaged chunk fails the stream with an error
// naming the archive and the chunk. verifyArchive does the same checks
// without emitting anything.
import { setMaxListeners } from 'node:events'
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError, isNotFound } from '../../plugins/sdk/errors'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { mapLimit } from '../platform/concurrency'
import { ChunkPool, defaultWorkers, inlineOpener, type ChunkOpener } from './chunk-pool'
import type { MasterKey } from './keys'
import { VaultError, chunkKey, manifestKey, openManifest, type Manifest } from './objects'
import { fetchObject } from './fetch'

export interface ReadOptions {
  store: StorePlugin
  endpoint: Endpoint
  ctx: PluginContext
  master: MasterKey
  archiveUuid: string
  /** Chunks fetched ahead of the consumer (readArchive) or checked at once (verifyArchive). Default 4. */
  readAhead?: number
  /** Threads that open (authenticate, inflate, check) chunks; 0 opens them on the main thread. */
  workers?: number
}

/** objects.ts openChunk, on worker threads unless told otherwise. */
export function opener(opts: ReadOptions): ChunkOpener {
  const workers = Math.max(0, Math.floor(opts.workers ?? defaultWorkers()))
  return workers > 0 ? new ChunkPool(opts.master, workers) : inlineOpener(opts.master)
}

export const DEFAULT_READ_AHEAD = 4
/** AES-GCM framing (magic, nonce, tag) plus the body's flag byte. */
export const CHUNK_OVERHEAD = 4 + 12 + 16 + 1
/** A manifest lists about 80 bytes per MiB of archive, before compression. */
const MAX_MANIFEST_OBJECT = 64 * 1024 * 1024

/** Maps a failed get to missing (head finds nothing), aborted, or a store error keeping its kind. */
async function fetchError(
  err: unknown,
  opts: Pick<ReadOptions, 'store' | 'endpoint'>,
  key: string,
  what: string,
  ctx: PluginContext,
): Promise<Error> {
  if (ctx.signal.aborted || err instanceof PluginAbortedError) return new PluginAbortedError()
  if (err instanceof VaultError) return new VaultError(err.code, err.message, { cause: err, key })
  const head = isNotFound(err)
    ? null
    : await opts.store.head(opts.endpoint, key, ctx).catch(() => undefined)
  if (head === null) {
    return new VaultError('missing', `${what} is missing from the store (${key})`, { key })
  }
  const message = `${what} could not be read: ${(err as Error).message}`
  return new PluginError(message, err instanceof PluginError ? err.kind : 'transient', {
    cause: err,
  })
}

/** Fetches and opens the archive's manifest; a missing one is VaultError 'missing'. */
export async function readManifest(opts: ReadOptions): Promise<Manifest> {
  const { store, endpoint, ctx, master, archiveUuid } = opts
  const key = manifestKey(archiveUuid)
  const name = `manifest ${archiveUuid}`
  let object: Buffer
  try {
    object = await fetchObject(store, endpoint, key, ctx, MAX_MANIFEST_OBJECT, name)
  } catch (err) {
    const e = await fetchError(err, opts, key, `archive ${archiveUuid}: its manifest`, ctx)
    if (e instanceof VaultError && e.code === 'missing') {
      throw new VaultError(
        'missing',
        `archive ${archiveUuid} does not exist in this vault (no ${key})`,
        { key },
      )
    }
    throw e
  }
  try {
    return openManifest(master, archiveUuid, object)
  } catch (err) {
    if (err instanceof VaultError) throw new VaultError(err.code, err.message, { cause: err, key })
    throw err
  }
}

/** Fetches and authenticates chunk #i of the manifest; errors name the archive and the chunk. */
function chunkLoader(
  opts: ReadOptions,
  manifest: Manifest,
  ctx: PluginContext,
  chunks: ChunkOpener,
) {
  const n = manifest.chunks.length
  return (i: number): Promise<Buffer> => {
    const [id, size] = manifest.chunks[i]!
    const what = `archive ${opts.archiveUuid}: chunk ${id.slice(0, 12)} (#${i + 1} of ${n})`
    return loadChunk(opts, id, size, ctx, chunks, what)
  }
}

/**
 * Fetches chunk `id` and authenticates it (its id, and `size` plaintext
 * bytes); a missing or damaged one is a VaultError whose message starts with `what`.
 */
export async function loadChunk(
  opts: Pick<ReadOptions, 'store' | 'endpoint'>,
  id: string,
  size: number,
  ctx: PluginContext,
  chunks: ChunkOpener,
  what: string,
): Promise<Buffer> {
  const key = chunkKey(id)
  let object: Buffer
  try {
    object = await fetchObject(opts.store, opts.endpoint, key, ctx, size + CHUNK_OVERHEAD, what)
  } catch (err) {
    throw await fetchError(err, opts, key, what, ctx)
  }
  try {
    return await chunks.open(id, object, size)
  } catch (err) {
    if (!(err instanceof VaultError)) throw err
    // openChunk says "chunk <short>… is corrupt: …"; say which archive and which of its chunks.
    const rest = err.message.replace(/^chunk [0-9a-f]+…? ?/, '')
    throw new VaultError(err.code, `${what} ${rest}`, { cause: err, key })
  }
}

/** A readable of the chunks' plaintexts in order, fetching at most readAhead chunks ahead. */
class ChunkStream extends Readable {
  private next = 0 // the next chunk to push
  private started = 0 // chunks requested so far
  private readonly pending = new Map<number, Promise<Buffer>>()
  private wanted = false
  private pumping = false

  constructor(
    private readonly count: number,
    private readonly readAhead: number,
    private readonly load: (i: number) => Promise<Buffer>,
    private readonly stop: AbortController,
  ) {
    // highWaterMark 0: the stream buffers at most the one chunk the consumer has not taken yet;
    // read-ahead is the pending map, bounded by readAhead.
    super({ highWaterMark: 0 })
  }

  override _read(): void {
    this.wanted = true
    if (!this.pumping) void this.pump()
  }

  private fill(): void {
    while (this.started < this.count && this.started < this.next + this.readAhead) {
      const p = this.load(this.started)
      p.catch(() => undefined) // awaited in order by pump; never unhandled
      this.pending.set(this.started++, p)
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true
    try {
      while (this.wanted && !this.destroyed) {
        this.wanted = false
        if (this.next >= this.count) {
          this.push(null)
          return
        }
        this.fill()
        const plaintext = await this.pending.get(this.next)!
        this.pending.delete(this.next++)
        if (this.destroyed) return
        this.fill()
        if (this.push(plaintext)) this.wanted = true
      }
    } catch (err) {
      this.destroy(err as Error)
    } finally {
      this.pumping = false
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.stop.abort() // in-flight gets stop; their rejections are already handled
    this.pending.clear()
    cb(err)
  }
}

/**
 * The archive's manifest and a stream of its bytes. Destroying the stream
 * stops the fetches in flight; aborting ctx.signal fails it with PluginAbortedError.
 */
export async function readArchive(
  opts: ReadOptions,
): Promise<{ manifest: Manifest; stream: Readable }> {
  const manifest = await readManifest(opts)
  const stop = new AbortController()
  const signal = AbortSignal.any([opts.ctx.signal, stop.signal])
  const readAhead = Math.max(1, Math.floor(opts.readAhead ?? DEFAULT_READ_AHEAD))
  setMaxListeners(readAhead + 10, signal) // each get in flight listens to it
  const ctx: PluginContext = { ...opts.ctx, signal }
  const chunks = opener(opts)
  const load = chunkLoader(opts, manifest, ctx, chunks)
  const stream = new ChunkStream(manifest.chunks.length, readAhead, load, stop)
  const onAbort = () => stream.destroy(new PluginAbortedError())
  opts.ctx.signal.addEventListener('abort', onAbort, { once: true })
  stream.once('close', () => {
    opts.ctx.signal.removeEventListener('abort', onAbort)
    void chunks.close()
  })
  if (opts.ctx.signal.aborted) onAbort()
  return { manifest, stream }
}

/**
 * Fetches and authenticates every chunk the archive references (each distinct
 * chunk once, readAhead at a time) without keeping any. Resolves to the
 * number of chunk references and plaintext bytes covered.
 */
export async function verifyArchive(opts: ReadOptions): Promise<{ chunks: number; bytes: number }> {
  const manifest = await readManifest(opts)
  const chunks = opener(opts)
  const load = chunkLoader(opts, manifest, opts.ctx, chunks)
  const seen = new Set<string>()
  const todo = manifest.chunks
    .map((c, i) => [c[0], i] as const)
    .filter(([id]) => {
      if (seen.has(id)) return false
      seen.add(id)
      return true
    })
  const parallel = opts.readAhead ?? DEFAULT_READ_AHEAD
  try {
    await mapLimit(todo, parallel, ([, i]) => load(i), opts.ctx.signal)
  } catch (err) {
    if (opts.ctx.signal.aborted) throw new PluginAbortedError()
    throw err
  } finally {
    await chunks.close()
  }
  return { chunks: manifest.chunks.length, bytes: manifest.size }
}
