// Content-defined chunking (FastCDC with normalized chunking). Cut points
// depend on the bytes, not their offsets, so an insertion early in a dump
// shifts only the chunks around it and the rest still deduplicate. The gear
// table is derived from the vault's key, so chunk sizes do not fingerprint
// content across vaults. One window buffer is reused for the whole stream.
import { createHmac } from 'node:crypto'

export interface ChunkerParams {
  min: number
  avg: number
  max: number
}

export const DEFAULT_CHUNKING: ChunkerParams = {
  min: 256 * 1024,
  avg: 1024 * 1024,
  max: 4 * 1024 * 1024,
}

export function checkChunkerParams(p: ChunkerParams): void {
  const pow2 = (n: number) => Number.isInteger(Math.log2(n))
  if (!pow2(p.avg) || p.avg < 1024 || p.avg > 64 * 1024 * 1024)
    throw new Error('chunk avg must be a power of two between 1 KiB and 64 MiB')
  if (!(p.min >= 64 && p.min < p.avg && p.avg < p.max && p.max <= 256 * 1024 * 1024)) {
    throw new Error('chunk sizes must satisfy 64 <= min < avg < max <= 256 MiB')
  }
}

/** 256 pseudo-random 32-bit values from the key (HMAC-SHA256 in counter mode). */
export function gearTable(key: Buffer): Int32Array {
  const table = new Int32Array(256)
  for (let block = 0; block < 32; block++) {
    const bytes = createHmac('sha256', key).update(`bulwark-gear-${block}`).digest()
    for (let i = 0; i < 8; i++) table[block * 8 + i] = bytes.readInt32LE(i * 4)
  }
  return table
}

/** A mask of the top `bits` bits of a 32-bit word, as an int32 (the hash is kept in int32 for speed). */
function topMask(bits: number): number {
  return bits >= 32 ? -1 : (-1 << (32 - bits)) | 0
}

export class Chunker {
  /** Twice the max chunk, so data is compacted only once per max bytes consumed. */
  private readonly window: Buffer
  /** The same memory as a plain Uint8Array: V8 indexes it faster than a Buffer. */
  private readonly bytes: Uint8Array
  private start = 0 // first byte of the current chunk
  private end = 0 // end of buffered data
  private scan = 0 // how far the current chunk has been scanned (relative to start)
  private hash = 0
  private readonly maskS: number
  private readonly maskL: number

  constructor(
    private readonly gear: Int32Array,
    private readonly p: ChunkerParams = DEFAULT_CHUNKING,
  ) {
    checkChunkerParams(p)
    this.window = Buffer.alloc(p.max * 2)
    this.bytes = new Uint8Array(this.window.buffer, this.window.byteOffset, this.window.length)
    const bits = Math.log2(p.avg)
    this.maskS = topMask(bits + 2) // harder to cut before avg
    this.maskL = topMask(bits - 2) // easier after
    this.scan = p.min
  }

  /** Feeds data; calls emit with each complete chunk (a fresh Buffer it may keep). */
  push(data: Buffer, emit: (chunk: Buffer) => void): void {
    let offset = 0
    while (offset < data.length) {
      if (this.end === this.window.length) this.compact()
      const take = Math.min(data.length - offset, this.window.length - this.end)
      data.copy(this.window, this.end, offset, offset + take)
      this.end += take
      offset += take
      this.cutAll(emit)
    }
  }

  /** Emits what is left as the last chunk. */
  finish(emit: (chunk: Buffer) => void): void {
    this.cutAll(emit)
    if (this.end > this.start) this.emit(this.end - this.start, emit)
  }

  private cutAll(emit: (chunk: Buffer) => void): void {
    for (;;) {
      const cut = this.findCut()
      if (cut < 0) return
      this.emit(cut, emit)
    }
  }

  /** Length of the next chunk if its end is known yet, else -1 (state kept for the next call). */
  private findCut(): number {
    const { avg, max } = this.p
    const available = this.end - this.start
    const w = this.bytes
    const gear = this.gear
    const base = this.start
    let h = this.hash
    let i = this.scan
    const normal = Math.min(avg, available)
    for (; i < normal; i++) {
      h = ((h << 1) + gear[w[base + i]!]!) | 0
      if ((h & this.maskS) === 0) return i + 1
    }
    const limit = Math.min(max, available)
    for (; i < limit; i++) {
      h = ((h << 1) + gear[w[base + i]!]!) | 0
      if ((h & this.maskL) === 0) return i + 1
    }
    if (available >= max) return max
    this.hash = h
    this.scan = Math.max(i, this.p.min)
    return -1
  }

  private emit(n: number, emit: (chunk: Buffer) => void): void {
    emit(Buffer.from(this.window.subarray(this.start, this.start + n)))
    this.start += n
    this.scan = this.p.min
    this.hash = 0
  }

  private compact(): void {
    this.window.copyWithin(0, this.start, this.end)
    this.end -= this.start
    this.start = 0
  }
}
