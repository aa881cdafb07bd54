// Sealing chunks (zstd, then AES-256-GCM) off the main thread. The writer's
// main thread chunks and hashes; sealing is synchronous native work of about
// the same cost, so on two cores a small worker pool overlaps the two. Chunk
// buffers are transferred, not copied, both ways. The worker is plain
// JavaScript passed as a string (eval), so it runs the same under vitest and
// in the bundled daemon without a separate build entry; it must produce
// exactly what objects.ts sealChunk produces (the vault tests open its output
// with openChunk). Workers are unref'd and terminated by close().
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { MasterKey } from './keys'
import { DEFAULT_ZSTD_LEVEL, sealChunk } from './objects'

export interface Sealer {
  /**
   * The BWC1 object for a chunk, as parts to write in order (no concatenation
   * copy). May take ownership of (detach) plaintext's memory.
   */
  seal(id: string, plaintext: Buffer): Promise<Buffer[]>
  close(): Promise<void>
}

/** Seals on the calling thread. */
export function inlineSealer(master: MasterKey, level = DEFAULT_ZSTD_LEVEL): Sealer {
  return {
    seal: async (id, plaintext) => [sealChunk(master, id, plaintext, level)],
    close: async () => undefined,
  }
}

// Mirrors sealChunk in objects.ts: body = flag (1 zstd / 0 stored) | payload,
// zstd (one frame, content size declared) kept only if smaller; object =
// "BWC1" | nonce | ciphertext | tag with aad "chunk:" + id. Compression goes
// into a reused scratch buffer and the ciphertext is transferred as is, so a
// chunk costs the worker one allocation, and it keeps none.
const WORKER_SOURCE = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createCipheriv, randomBytes } = require('node:crypto')
const zstd = require(workerData.binding)
const encKey = Buffer.from(workerData.encKey)
const cctx = new zstd.CCtx()
let scratch = Buffer.alloc(0)
const own = (b) => {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer
  const copy = new Uint8Array(b.length)
  copy.set(b)
  return copy.buffer
}
parentPort.on('message', (m) => {
  try {
    const plaintext = Buffer.from(m.buf, 0, m.buf.byteLength)
    const bound = zstd.compressBound(plaintext.length)
    if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(bound)
    const n = cctx.compress(scratch, plaintext, workerData.level)
    const zipped = n < plaintext.length
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', encKey, nonce)
    cipher.setAAD(Buffer.from('chunk:' + m.id))
    const flag = cipher.update(Buffer.of(zipped ? 1 : 0))
    const body = cipher.update(zipped ? scratch.subarray(0, n) : plaintext)
    const rest = cipher.final()
    const head = Buffer.concat([Buffer.from('BWC1'), nonce, flag])
    const tail = Buffer.concat([rest, cipher.getAuthTag()])
    const parts = [new Uint8Array(head), own(body), new Uint8Array(tail)]
    // The plaintext goes back too: garbage there rather than here, so only the
    // main thread's collector has chunk-sized garbage to free, not one per worker.
    parentPort.postMessage({ n: m.n, parts, spent: m.buf }, [parts[1], m.buf])
  } catch (err) {
    parentPort.postMessage({ n: m.n, error: String((err && err.message) || err) })
  }
})
`

interface Job {
  resolve(parts: Buffer[]): void
  reject(e: Error): void
  worker: Slot
}
interface Slot {
  worker: Worker
  busy: number
}
type Reply = { n: number; parts: (ArrayBuffer | Uint8Array)[] } | { n: number; error: string }

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

/** A fixed number of sealing workers; each job goes to the least busy one. */
export class SealPool implements Sealer {
  private readonly slots: Slot[] = []
  private readonly jobs = new Map<number, Job>()
  private next = 0
  private failure: Error | undefined

  constructor(master: MasterKey, size = 2, level = DEFAULT_ZSTD_LEVEL) {
    bindingPath ??= createRequire(import.meta.url).resolve('zstd-napi/binding')
    const workerData = { binding: bindingPath, encKey: master.encKey, level }
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
      const slot: Slot = { worker, busy: 0 }
      worker.unref()
      worker.on('message', (r: Reply) => this.settle(r))
      worker.on('error', (err) => this.fail(err))
      worker.on('exit', (code) => this.fail(new Error(`a sealing worker exited (code ${code})`)))
      this.slots.push(slot)
    }
  }

  seal(id: string, plaintext: Buffer): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure)
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a))
    const n = this.next++
    const buf = ownBuffer(plaintext)
    return new Promise((resolve, reject) => {
      this.jobs.set(n, { resolve, reject, worker: slot })
      slot.busy++
      slot.worker.postMessage({ n, id, buf }, [buf])
    })
  }

  private settle(r: Reply): void {
    const job = this.jobs.get(r.n)
    if (!job) return
    this.jobs.delete(r.n)
    job.worker.busy--
    if ('error' in r) job.reject(new Error(`sealing a chunk failed: ${r.error}`))
    else
      job.resolve(
        r.parts.map((p) =>
          p instanceof ArrayBuffer
            ? Buffer.from(p)
            : Buffer.from(p.buffer, p.byteOffset, p.byteLength),
        ),
      )
  }

  /** A worker died: every job still pending and every later one fails. */
  private fail(err: Error): void {
    this.failure ??= err
    for (const job of this.jobs.values()) job.reject(this.failure)
    this.jobs.clear()
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the sealing pool is closed')
    const slots = this.slots.splice(0)
    for (const s of slots) s.worker.removeAllListeners('exit')
    await Promise.all(slots.map((s) => s.worker.terminate()))
    this.fail(this.failure)
  }
}
