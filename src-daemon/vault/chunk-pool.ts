// Chunk crypto off the main thread. Writing, the main thread only cuts chunks
// (the chunker is sequential); each chunk is transferred to a worker, which
// returns its id (HMAC) and keeps the bytes until the writer says whether the
// vault needs them: then it seals them (zstd, AES-256-GCM) and transfers the
// object back, or drops them. Reading, a worker opens each object (the same
// checks as objects.ts openChunk; on any failure openChunk itself runs on the
// object, so errors and the last word stay with objects.ts). Buffers cross
// threads without copies. The worker is plain JavaScript passed as a string
// (eval), so it runs the same under vitest and in the bundled daemon without
// a build entry of its own; the vault tests check it against objects.ts.
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
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

// chunkId: hex HMAC-SHA256(id_key, plaintext). sealChunk: body = flag (1 zstd,
// 0 stored) | payload, zstd (one frame declaring its size) kept only if
// smaller; object = "BWC1" | nonce | AES-256-GCM(body, aad "chunk:" + id) | tag.
// zstd writes into a reused scratch buffer; the ciphertext is transferred as
// is; spent plaintexts go back to the main thread to be collected there.
// Hashes run before queued seals and opens, so that the main thread learns
// ids (and decides on seals) without waiting behind the seals.
// open: openChunk's checks (magic, GCM with aad "chunk:" + id, flag, one zstd
// frame declaring exactly the listed size, inflated into a buffer of that
// size, HMAC == id); any failure is only reported, openChunk then decides.
const WORKER_SOURCE = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createCipheriv, createDecipheriv, createHmac, randomBytes } = require('node:crypto')
const zstd = require(workerData.binding)
const encKey = Buffer.from(workerData.encKey)
const idKey = Buffer.from(workerData.idKey)
const cctx = new zstd.CCtx()
const dctx = new zstd.DCtx()
const held = new Map()
let scratch = Buffer.alloc(0)
const own = (b) => {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer
  const copy = new Uint8Array(b.length)
  copy.set(b)
  return copy.buffer
}
function seal(id, plaintext) {
  const bound = zstd.compressBound(plaintext.length)
  if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(bound)
  const n = cctx.compress(scratch, plaintext, workerData.level)
  const zipped = n < plaintext.length
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', encKey, nonce)
  cipher.setAAD(Buffer.from('chunk:' + id))
  const flag = cipher.update(Buffer.of(zipped ? 1 : 0))
  const body = cipher.update(zipped ? scratch.subarray(0, n) : plaintext)
  const rest = cipher.final()
  const head = Buffer.concat([Buffer.from('BWC1'), nonce, flag])
  const tail = Buffer.concat([rest, cipher.getAuthTag()])
  return [new Uint8Array(head), own(body), new Uint8Array(tail)]
}
function open(id, object, size) {
  if (object.length < 33 || object.toString('latin1', 0, 4) !== 'BWC1') throw new Error('bad object')
  const decipher = createDecipheriv('aes-256-gcm', encKey, object.subarray(4, 16))
  decipher.setAAD(Buffer.from('chunk:' + id))
  decipher.setAuthTag(object.subarray(object.length - 16))
  const body = decipher.update(object.subarray(16, object.length - 16))
  decipher.final()
  let plaintext = body.subarray(1)
  if (body[0] === 1) {
    if (zstd.findFrameCompressedSize(plaintext) !== plaintext.length) throw new Error('frames')
    if (zstd.getFrameContentSize(plaintext) !== size) throw new Error('size')
    const out = Buffer.allocUnsafeSlow(size)
    if (dctx.decompress(out, plaintext) !== size) throw new Error('size')
    plaintext = out
  } else if (body[0] !== 0) throw new Error('flag')
  if (plaintext.length !== size) throw new Error('size')
  if (createHmac('sha256', idKey).update(plaintext).digest('hex') !== id) throw new Error('id')
  return plaintext
}
// m.n numbers the reply; m.key names a held chunk (the number of the job that
// hashed it); a seal of a chunk hashed on the main thread brings it in m.buf.
function run(m) {
  const key = m.op === 'hash' ? m.n : m.key
  const buf = m.buf || held.get(key)
  if (m.op === 'open') {
    try {
      const plaintext = own(open(m.id, Buffer.from(buf), m.size))
      return parentPort.postMessage({ n: m.n, plaintext, spent: buf }, [plaintext, buf])
    } catch (err) {
      return parentPort.postMessage({ n: m.n, error: 'open', spent: buf }, [buf])
    }
  }
  try {
    if (m.op === 'hash') {
      held.set(key, buf)
      const id = createHmac('sha256', idKey).update(new Uint8Array(buf)).digest('hex')
      return parentPort.postMessage({ n: m.n, id })
    }
    held.delete(key)
    if (!buf) throw new Error('chunk already released')
    if (m.op === 'drop') return parentPort.postMessage({ n: -1, spent: buf }, [buf])
    const parts = seal(m.id, Buffer.from(buf))
    parentPort.postMessage({ n: m.n, parts, spent: buf }, [parts[1], buf])
  } catch (err) {
    parentPort.postMessage({ n: m.n, error: String((err && err.message) || err) })
  }
}
const hashes = []
const others = []
let draining = false
function drain() {
  const m = hashes.length > 0 ? hashes.shift() : others.shift()
  if (m) run(m)
  draining = hashes.length > 0 || others.length > 0
  if (draining) setImmediate(drain) // lets the messages that came meanwhile in first
}
parentPort.on('message', (m) => {
  if (m.op === 'drop') return run(m)
  ;(m.op === 'hash' ? hashes : others).push(m)
  if (!draining) {
    draining = true
    setImmediate(drain)
  }
})
`

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
interface Reply {
  n: number
  id?: string
  parts?: (ArrayBuffer | Uint8Array)[]
  plaintext?: ArrayBuffer
  spent?: ArrayBuffer
  error?: string
}

let bindingPath: string | undefined

/** An ArrayBuffer holding exactly buf's bytes that may be transferred (copies unless buf owns all of it). */
function ownBuffer(buf: Buffer): ArrayBuffer {
  const ab = buf.buffer
  if (ab instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength === ab.byteLength) {
    return ab
  }
  const copy = new Uint8Array(buf.length)
  copy.set(buf)
  return copy.buffer
}

const toBuffer = (p: ArrayBuffer | Uint8Array) =>
  p instanceof ArrayBuffer ? Buffer.from(p) : Buffer.from(p.buffer, p.byteOffset, p.byteLength)

/**
 * A fixed number of workers. A chunk is hashed by the least busy worker and
 * stays there until sealed or dropped, unless every worker has
 * hashHereWhenQueued jobs or more (sealing a first backup): then it is hashed
 * here, which keeps both threads busy (on two cores, with the chunker's scan
 * in WebAssembly, 4 measured ~15% faster than never; 2 about as fast as 4, 6
 * slower), and goes to a worker to be sealed.
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
    bindingPath ??= createRequire(import.meta.url).resolve('zstd-napi/binding')
    const workerData = { binding: bindingPath, encKey: master.encKey, idKey: master.idKey, level }
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
      const slot: Slot = { worker, busy: 0 }
      worker.unref()
      worker.on('message', (r: Reply) => this.settle(r))
      worker.on('error', (err) => this.fail(err))
      worker.on('exit', (code) => this.fail(new Error(`a chunk worker exited (code ${code})`)))
      this.slots.push(slot)
    }
  }

  private send(slot: Slot, msg: object, transfer: ArrayBuffer[] = [], raw = false): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure)
    const n = this.next++
    return new Promise((resolve, reject) => {
      this.jobs.set(n, { resolve, reject, slot, raw })
      slot.busy++
      slot.worker.postMessage({ ...msg, n }, transfer)
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
    return reply.parts!.map(toBuffer)
  }

  drop(ref: ChunkRef): void {
    const r = ref as PoolRef
    r.plaintext = undefined
    if (r.n >= 0 && !this.failure) r.slot.worker.postMessage({ op: 'drop', n: -1, key: r.n })
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
