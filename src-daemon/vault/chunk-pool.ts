// Chunk crypto off the main thread. Writing, the main thread only cuts chunks
// (the chunker is sequential); each chunk is transferred to a worker, which
// returns its id (HMAC) and keeps the bytes until the writer says whether the
// vault needs them: then it seals them (zstd, AES-256-GCM) and transfers the
// object back, or drops them. Reading, a worker opens each object (on any
// failure openChunk runs again here, so that its error is thrown from this
// thread). The workers (chunk-worker.ts) run objects.ts, as the main thread
// does. Buffers cross threads without copies.
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  ownBuffer,
  type ChunkReply as Reply,
  type ChunkRequest,
  type ChunkWorkerData,
} from './chunk-worker-protocol'
import type { MasterKey } from './keys'
import { DEFAULT_ZSTD_LEVEL, chunkId, openChunk, sealChunk } from './objects'

/**
 * Worker threads for a writer or a reader: one per core beyond the main
 * thread's, at most 2 (on 2 cores: 1, measured fastest there).
 */
export const defaultWorkers = (): number => Math.min(2, Math.max(0, availableParallelism() - 1))

/** A chunk whose id is known; its bytes are wherever the processor keeps them. */
export interface ChunkRef {
  id: string
  size: number
}

export interface ChunkProcessor {
  /** The chunk's id. Takes ownership of plaintext (its memory may be detached). */
  hash(plaintext: Buffer): Promise<ChunkRef>
  /** The BWC1 object, as parts to write in order (no concatenation copy); releases the chunk. */
  seal(ref: ChunkRef): Promise<Buffer[]>
  /** Releases a chunk the vault already holds. */
  drop(ref: ChunkRef): void
  close(): Promise<void>
}

/** Opens chunk objects: objects.ts openChunk, wherever it runs. */
export interface ChunkOpener {
  open(id: string, object: Buffer, size: number): Promise<Buffer>
  close(): Promise<void>
}

export const inlineOpener = (master: MasterKey): ChunkOpener => ({
  open: async (id, object, size) => openChunk(master, id, object, size),
  close: async () => undefined,
})

/** Everything on the calling thread (objects.ts itself). */
export function inlineProcessor(master: MasterKey, level = DEFAULT_ZSTD_LEVEL): ChunkProcessor {
  const held = new Map<ChunkRef, Buffer>()
  return {
    hash: async (plaintext) => {
      const ref = { id: chunkId(master, plaintext), size: plaintext.length }
      held.set(ref, plaintext)
      return ref
    },
    seal: async (ref) => {
      const plaintext = held.get(ref)
      held.delete(ref)
      if (!plaintext) throw new Error('chunk already released')
      return [sealChunk(master, ref.id, plaintext, level)]
    },
    drop: (ref) => void held.delete(ref),
    close: async () => held.clear(),
  }
}

/**
 * The worker's script. In a build, chunk-worker.ts is an entry of its own
 * (electron.vite.config.ts), chunk-worker.js beside the entry that bundles
 * this module (out/main/daemon.js), or beside the folder of the chunk it is
 * in; from the sources (vitest), chunk-worker.ts through
 * chunk-worker-source.mjs.
 */
function workerScript(): { file: URL; argv: string[] } {
  const here = import.meta.url
  if (/\.ts$/.test(here)) {
    const source = new URL('./chunk-worker.ts', here).href
    return { file: new URL('./chunk-worker-source.mjs', here), argv: [source] }
  }
  const file = ['./chunk-worker.js', '../chunk-worker.js']
    .map((name) => new URL(name, here))
    .find((url) => existsSync(url))
  if (!file) {
    throw new Error(
      `chunk-worker.js is missing beside ${fileURLToPath(here)}: a build must make src-daemon/vault/chunk-worker.ts an entry`,
    )
  }
  return { file, argv: [] }
}

let script: ReturnType<typeof workerScript> | undefined

interface Slot {
  worker: Worker
  busy: number // jobs sent and not answered
}
interface Job {
  resolve(reply: Reply): void
  reject(e: Error): void
  slot: Slot
  /** The caller handles an error reply itself. */
  raw: boolean
}
interface PoolRef extends ChunkRef {
  /** Held by a worker, under the number of the job that hashed it... */
  n: number
  slot: Slot
  /** ...or still here, hashed on this thread. */
  plaintext?: Buffer
}
/** A request before send numbers it. */
type Unsent = ChunkRequest extends infer R
  ? R extends { n: number }
    ? Omit<R, 'n'>
    : never
  : never

/**
 * A fixed number of workers. A chunk is hashed by the least busy worker and
 * stays there until sealed or dropped, unless every worker has
 * hashHereWhenQueued jobs or more (sealing a first backup): then it is hashed
 * here, which keeps both threads busy (4: the fastest setting measured with
 * test/bench/vault.bench.ts on two cores), and goes to a worker to be sealed.
 */
export class ChunkPool implements ChunkProcessor, ChunkOpener {
  hashHereWhenQueued = 4
  private readonly slots: Slot[] = []
  private readonly jobs = new Map<number, Job>()
  private next = 0
  private failure: Error | undefined
  /** Objects the workers refused to open (openChunk then ran on them here). */
  refused = 0

  constructor(
    private readonly master: MasterKey,
    size = 1,
    level = DEFAULT_ZSTD_LEVEL,
  ) {
    script ??= workerScript()
    const chunkWorker: ChunkWorkerData = { master: master.raw, level }
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(script.file, { argv: script.argv, workerData: { chunkWorker } })
      const slot: Slot = { worker, busy: 0 }
      worker.unref()
      worker.on('message', (r: Reply) => this.settle(r))
      worker.on('error', (err) => this.fail(err))
      worker.on('exit', (code) => this.fail(new Error(`a chunk worker exited (code ${code})`)))
      this.slots.push(slot)
    }
  }

  private send(slot: Slot, msg: Unsent, transfer: ArrayBuffer[] = [], raw = false): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure)
    const n = this.next++
    return new Promise((resolve, reject) => {
      this.jobs.set(n, { resolve, reject, slot, raw })
      slot.busy++
      slot.worker.postMessage({ ...msg, n } as ChunkRequest, transfer)
    })
  }

  async hash(plaintext: Buffer): Promise<ChunkRef> {
    if (this.failure) throw this.failure
    const slot = this.idlest()
    const size = plaintext.length
    if (slot.busy >= this.hashHereWhenQueued) {
      return { id: chunkId(this.master, plaintext), size, n: -1, slot, plaintext } as PoolRef
    }
    const buf = ownBuffer(plaintext)
    const reply = await this.send(slot, { op: 'hash', buf }, [buf])
    const ref: PoolRef = { id: reply.id!, size, n: reply.n, slot }
    return ref
  }

  async seal(ref: ChunkRef): Promise<Buffer[]> {
    const r = ref as PoolRef
    let reply: Reply
    if (r.plaintext) {
      const buf = ownBuffer(r.plaintext)
      r.plaintext = undefined
      reply = await this.send(this.idlest(), { op: 'seal', id: r.id, buf }, [buf])
    } else {
      reply = await this.send(r.slot, { op: 'seal', id: r.id, key: r.n })
    }
    return reply.parts!.map((p) => Buffer.from(p))
  }

  drop(ref: ChunkRef): void {
    const r = ref as PoolRef
    r.plaintext = undefined
    const drop: ChunkRequest = { op: 'drop', n: -1, key: r.n }
    if (r.n >= 0 && !this.failure) r.slot.worker.postMessage(drop)
  }

  async open(id: string, object: Buffer, size: number): Promise<Buffer> {
    if (this.failure) throw this.failure
    const buf = ownBuffer(object)
    const reply = await this.send(this.idlest(), { op: 'open', id, buf, size }, [buf], true)
    if (reply.plaintext) return Buffer.from(reply.plaintext)
    // The worker refused it: openChunk says why (or, should it disagree, has the last word).
    this.refused++
    return openChunk(this.master, id, Buffer.from(reply.spent!), size)
  }

  private idlest(): Slot {
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a))
  }

  private settle(r: Reply): void {
    const job = this.jobs.get(r.n)
    if (!job) return // a dropped chunk's spent buffer
    this.jobs.delete(r.n)
    job.slot.busy--
    if (r.error !== undefined && !job.raw)
      job.reject(new Error(`a chunk worker failed: ${r.error}`))
    else job.resolve(r)
  }

  /** A worker died: every job still pending and every later one fails. */
  private fail(err: Error): void {
    this.failure ??= err
    for (const job of this.jobs.values()) job.reject(this.failure)
    this.jobs.clear()
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the chunk pool is closed')
    const slots = this.slots.splice(0)
    for (const s of slots) s.worker.removeAllListeners('exit')
    await Promise.all(slots.map((s) => s.worker.terminate()))
    this.fail(this.failure)
  }
}
