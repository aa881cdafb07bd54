// Where an archive's chunks go, for the stream writer (writer.ts) and the
// tree writer (tree-writer.ts) alike: each chunk is named by its keyed id and
// stored unless the vault (or this archive) has it already. The chunk index
// is a hint that must not lie: a chunk it knows is skipped, one it does not
// know but the store holds is trusted only once it opens, else written again
// over it; a chunk is added to the index only after the store confirmed it.
// Hashing and sealing run on the chunk pool's worker threads.
import { setMaxListeners } from 'node:events'
import { PluginAbortedError, PluginError, isNotFound } from '../../plugins/sdk/errors'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import {
  ChunkPool,
  defaultWorkers,
  inlineProcessor,
  type ChunkProcessor,
  type ChunkRef,
} from './chunk-pool'
import type { MasterKey } from './keys'
import { VaultError, chunkKey, openChunk } from './objects'
import { fetchObject } from './fetch'
import { CHUNK_OVERHEAD } from './reader'

/** Which chunks the vault already holds (a cache of the store: a miss is checked with head). */
export interface ChunkIndex {
  has(id: string): boolean | Promise<boolean>
  add(id: string, storedSize: number): void
  storedSize?(id: string): number | undefined
}

export interface SinkOptions {
  store: StorePlugin
  endpoint: Endpoint
  ctx: PluginContext
  master: MasterKey
  index: ChunkIndex
  /** Threads that hash and seal chunks; 0 does it all on the main thread. */
  sealWorkers?: number
  /** zstd level for chunks. */
  level?: number
}

export interface SinkStats {
  newChunks: number
  /** Stored bytes this sink uploaded. */
  newBytes: number
  /** Stored size of every distinct chunk put (when the index knows it). */
  storedBytes: number
}

export class ChunkSink {
  readonly stats: SinkStats = { newChunks: 0, newBytes: 0, storedBytes: 0 }
  private readonly seen = new Set<string>()
  private readonly chunks: ChunkProcessor

  constructor(private readonly opts: SinkOptions) {
    const workers = Math.max(0, Math.floor(opts.sealWorkers ?? defaultWorkers()))
    this.chunks =
      workers > 0
        ? new ChunkPool(opts.master, workers, opts.level)
        : inlineProcessor(opts.master, opts.level)
  }

  /**
   * Resolves to the chunk's id once the store holds it (or it is on its way,
   * put by this sink: the caller writes a manifest only after every put
   * settled). Takes ownership of plaintext (its memory may be detached).
   */
  async put(plaintext: Buffer, stopped: AbortSignal): Promise<string> {
    const ref = await this.chunks.hash(plaintext)
    const id = ref.id
    if (this.seen.has(id)) {
      this.chunks.drop(ref)
      return id
    }
    this.seen.add(id)
    if (await this.opts.index.has(id)) {
      this.stats.storedBytes += this.opts.index.storedSize?.(id) ?? 0
      this.chunks.drop(ref)
      return id
    }
    return this.store(ref, stopped)
  }

  /**
   * Whether the archive or the index already has the chunk (counted as
   * referenced if so); if not, the chunk is reserved for putClaimed.
   */
  async known(id: string): Promise<boolean> {
    if (this.seen.has(id)) return true
    this.seen.add(id)
    if (!(await this.opts.index.has(id))) return false
    this.stats.storedBytes += this.opts.index.storedSize?.(id) ?? 0
    return true
  }

  /** Stores a chunk that known() said is missing, once its bytes prove to be `claimed`. */
  async putClaimed(plaintext: Buffer, claimed: string, stopped: AbortSignal): Promise<void> {
    const ref = await this.chunks.hash(plaintext)
    if (ref.id !== claimed) {
      this.chunks.drop(ref)
      throw new PluginError(
        `chunk ${claimed.slice(0, 12)} arrived with bytes that do not match its id`,
      )
    }
    await this.store(ref, stopped)
  }

  private async store(ref: ChunkRef, stopped: AbortSignal): Promise<string> {
    const { store, endpoint, index } = this.opts
    const ctx: PluginContext = { ...this.opts.ctx, signal: stopped }
    const id = ref.id
    const key = chunkKey(id)
    const head = await store.head(endpoint, key, ctx)
    // An object the index does not know is trusted only once it opens: a
    // partial upload or a damaged chunk is written again, over it.
    if (head && (await this.storedChunkOpens(id, ref.size, ctx))) {
      index.add(id, head.size)
      this.stats.storedBytes += head.size
      this.chunks.drop(ref)
      return id
    }
    if (stopped.aborted) throw new PluginAbortedError()
    const parts = await this.chunks.seal(ref)
    const stored = parts.reduce((n, p) => n + p.length, 0)
    await store.put(endpoint, key, retryableBody(parts), ctx)
    index.add(id, stored)
    this.stats.newChunks++
    this.stats.newBytes += stored
    this.stats.storedBytes += stored
    return id
  }

  /** Counts a chunk an archive references without putting it (reused by a tree). */
  reference(id: string): void {
    if (this.seen.has(id)) return
    this.seen.add(id)
    this.stats.storedBytes += this.opts.index.storedSize?.(id) ?? 0
  }

  /** Whether the chunk object in the store authenticates and holds `size` plaintext bytes. */
  private async storedChunkOpens(id: string, size: number, ctx: PluginContext): Promise<boolean> {
    try {
      const object = await fetchObject(
        this.opts.store,
        this.opts.endpoint,
        chunkKey(id),
        ctx,
        size + CHUNK_OVERHEAD,
        id,
      )
      openChunk(this.opts.master, id, object, size)
      return true
    } catch (err) {
      if (ctx.signal.aborted) throw err
      if (err instanceof VaultError || isNotFound(err)) return false
      throw err
    }
  }

  close(): Promise<void> {
    return this.chunks.close()
  }
}

/**
 * At most `limit` puts in flight: submit waits for room, then starts the put
 * and hands back its promise (wrapped, so that awaiting submit waits for room only). The first failure aborts `signal` (so the other
 * puts stop early) and is thrown by every later submit and by drain.
 */
export class PutWindow {
  private readonly running = new Set<Promise<unknown>>()
  private failure: { err: unknown } | undefined
  private readonly stop = new AbortController()
  readonly signal: AbortSignal

  constructor(
    private readonly limit: number,
    outer: AbortSignal,
  ) {
    this.signal = AbortSignal.any([outer, this.stop.signal])
    setMaxListeners(limit + 20, this.signal)
  }

  fail(err: unknown): void {
    this.failure ??= { err }
    this.stop.abort(err)
  }

  private check(): void {
    if (this.failure) throw this.failure.err
    if (this.signal.aborted) throw new PluginAbortedError()
  }

  async submit<T>(work: (signal: AbortSignal) => Promise<T>): Promise<{ done: Promise<T> }> {
    this.check()
    while (this.running.size >= this.limit) {
      await Promise.race(this.running).catch(() => undefined)
      this.check()
    }
    const p = work(this.signal)
    const tracked = p.then(
      () => undefined,
      (err: unknown) => this.fail(err),
    )
    this.running.add(tracked)
    void tracked.finally(() => this.running.delete(tracked))
    p.catch(() => undefined) // reported through fail
    return { done: p }
  }

  /** Waits for every put; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running)
    this.check()
  }
}
