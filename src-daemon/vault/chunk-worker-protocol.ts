// What chunk-pool.ts and its workers (chunk-worker.ts) say to each other.

/** workerData.chunkWorker: the vault's master key (its 64 bytes) and the zstd level. */
export interface ChunkWorkerData {
  master: Uint8Array
  level: number
}

/**
 * n numbers the reply (a drop's is -1: only its spent buffer comes back). A
 * hashed chunk stays in the worker under key, the n of the hash that brought
 * it, until its seal or drop; a seal of a chunk hashed on the main thread
 * brings it in buf.
 */
export type ChunkRequest =
  | { op: 'hash'; n: number; buf: ArrayBuffer }
  | { op: 'seal'; n: number; id: string; key?: number; buf?: ArrayBuffer }
  | { op: 'drop'; n: -1; key: number }
  | { op: 'open'; n: number; id: string; buf: ArrayBuffer; size: number }

/**
 * The answer to request n. spent: a buffer the main thread gave, handed back
 * so that it is collected there. error: the job failed (for an open, only
 * that it did: the pool runs openChunk again itself to say why).
 */
export interface ChunkReply {
  n: number
  id?: string
  parts?: ArrayBuffer[]
  plaintext?: ArrayBuffer
  spent?: ArrayBuffer
  error?: string
}

/** An ArrayBuffer holding exactly buf's bytes that may be transferred (copies unless buf owns all of it). */
export function ownBuffer(buf: Uint8Array): ArrayBuffer {
  const ab = buf.buffer
  if (ab instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength === ab.byteLength) {
    return ab
  }
  const copy = new Uint8Array(buf.length)
  copy.set(buf)
  return copy.buffer
}
