// A chunk worker: the worker thread's entry that chunk-pool.ts starts (built,
// chunk-worker.js: an entry of electron.vite.config.ts). It hashes, seals and
// opens chunks with objects.ts, the code the main thread runs, so the chunk
// format has one implementation. Buffers cross threads by transfer, not copy.
import { parentPort, workerData } from 'node:worker_threads'
import {
  ownBuffer,
  type ChunkReply,
  type ChunkRequest,
  type ChunkWorkerData,
} from './chunk-worker-protocol'
import { masterKeyFromRaw } from './keys'
import { chunkId, openChunk, sealChunk } from './objects'

/** The worker's side: serves the pool's requests, hashes before queued seals and opens. */
function serve(port: NonNullable<typeof parentPort>, data: ChunkWorkerData): void {
  const master = masterKeyFromRaw(Buffer.from(data.master))
  const held = new Map<number, ArrayBuffer>()
  const reply = (r: ChunkReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer)

  function run(m: ChunkRequest): void {
    if (m.op === 'open') {
      try {
        const plaintext = ownBuffer(openChunk(master, m.id, Buffer.from(m.buf), m.size))
        return reply({ n: m.n, plaintext, spent: m.buf }, [plaintext, m.buf])
      } catch {
        return reply({ n: m.n, error: 'open', spent: m.buf }, [m.buf])
      }
    }
    try {
      if (m.op === 'hash') {
        held.set(m.n, m.buf)
        return reply({ n: m.n, id: chunkId(master, Buffer.from(m.buf)) })
      }
      const buf = (m.op === 'seal' ? m.buf : undefined) ?? held.get(m.key!)
      if (m.key !== undefined) held.delete(m.key)
      if (!buf) throw new Error('chunk already released')
      if (m.op === 'drop') return reply({ n: -1, spent: buf }, [buf])
      const object = ownBuffer(sealChunk(master, m.id, Buffer.from(buf), data.level))
      reply({ n: m.n, parts: [object], spent: buf }, [object, buf])
    } catch (err) {
      reply({ n: m.n, error: err instanceof Error ? err.message : String(err) })
    }
  }

  // Hashes go first, so that the main thread learns ids (and decides on
  // seals) without waiting behind the seals; one job per turn of the event
  // loop lets the requests that came meanwhile in.
  const hashes: ChunkRequest[] = []
  const others: ChunkRequest[] = []
  let draining = false
  function drain(): void {
    const m = hashes.shift() ?? others.shift()
    if (m) run(m)
    draining = hashes.length > 0 || others.length > 0
    if (draining) setImmediate(drain)
  }
  port.on('message', (m: ChunkRequest) => {
    if (m.op === 'drop') return run(m)
    ;(m.op === 'hash' ? hashes : others).push(m)
    if (!draining) {
      draining = true
      setImmediate(drain)
    }
  })
}

if (parentPort && (workerData as { chunkWorker?: ChunkWorkerData } | null)?.chunkWorker) {
  serve(parentPort, (workerData as { chunkWorker: ChunkWorkerData }).chunkWorker)
}
