// Content-defined chunking (FastCDC with normalized chunking). Cut points
// depend on the bytes, not their offsets, so an insertion early in a dump
// shifts only the chunks around it and the rest still deduplicate. The gear
// table is derived from the vault's key, so chunk sizes do not fingerprint
// content across vaults. One window buffer is reused for the whole stream.
import { createHmac } from 'node:crypto'
import { LITTLE_ENDIAN, wasmScan, type WasmScan } from './wasm-scan'

export { WasmScan, wasmScan } from './wasm-scan'

export interface ChunkerParams {
  min: number
  avg: number
  max: number
}

export const DEFAULT_CHUNKING: ChunkerParams = {
  min: 128 * 1024,
  avg: 512 * 1024,
  max: 2 * 1024 * 1024,
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

/** The cut masks of the spec: maskS (before avg, harder to cut) and maskL (after). */
export function cutMasks(p: ChunkerParams): { maskS: number; maskL: number } {
  const bits = Math.log2(p.avg)
  return { maskS: topMask(bits + 2), maskL: topMask(bits - 2) }
}

/**
 * Bytes a gear hash remembers: h = (h << 1) + gear[byte] shifts each byte's
 * term out after 32 more bytes, so h at a byte depends on that byte and the 31
 * before it only. A chunk's hash restarts at 0 at its min, so for its first
 * WARM positions from there the hash differs from the stream's rolling one;
 * from min + WARM on it is the same.
 */
export const WARM = 31

/**
 * Finding cut points in two steps. The scan, which is all the per-byte work,
 * keeps the stream's rolling gear hash and lists the positions where it
 * matches maskL, flagging those that also match maskS (maskS has every bit of
 * maskL): independent of where chunks start. The Chunker then picks cuts from
 * that list, hashing only the WARM bytes after each chunk's min itself.
 *
 * gearScan hashes bytes[from, to) continuing from h and returns the hash after
 * the last one; for each byte i where h & maskL == 0 it appends base + i to
 * out, or -(base + i) - 1 where h & maskS == 0 too. It reads two 32-bit words
 * at a time where it can (faster than a byte at a time). The Chunker runs the
 * same scan as WebAssembly (WasmScan in wasm-scan.ts, faster again) and keeps this one
 * where WebAssembly is unavailable (node --jitless); this one is also the
 * reference the tests hold the WebAssembly to.
 */
export function gearScan(
  gear: Int32Array,
  bytes: Uint8Array,
  from: number,
  to: number,
  h: number,
  maskS: number,
  maskL: number,
  base: number,
  out: number[],
): number {
  let i = from
  if (LITTLE_ENDIAN) {
    for (; i < to && ((bytes.byteOffset + i) & 3) !== 0; i++) {
      h = ((h << 1) + gear[bytes[i]!]!) | 0
      if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -(base + i) - 1 : base + i)
    }
    const n = ((to - i) >>> 3) << 1
    if (n > 0) {
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, n)
      for (let j = 0; j < n; j += 2) {
        const x = words[j]!
        const y = words[j + 1]!
        const p = base + i + 4 * j
        h = ((h << 1) + gear[x & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 1 : p)
        h = ((h << 1) + gear[(x >>> 8) & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 2 : p + 1)
        h = ((h << 1) + gear[(x >>> 16) & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 3 : p + 2)
        h = ((h << 1) + gear[x >>> 24]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 4 : p + 3)
        h = ((h << 1) + gear[y & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 5 : p + 4)
        h = ((h << 1) + gear[(y >>> 8) & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 6 : p + 5)
        h = ((h << 1) + gear[(y >>> 16) & 255]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 7 : p + 6)
        h = ((h << 1) + gear[y >>> 24]!) | 0
        if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -p - 8 : p + 7)
      }
      i += 4 * n
    }
  }
  for (; i < to; i++) {
    h = ((h << 1) + gear[bytes[i]!]!) | 0
    if ((h & maskL) === 0) out.push((h & maskS) === 0 ? -(base + i) - 1 : base + i)
  }
  return h
}

export class Chunker {
  /** Twice the max chunk, so data is compacted only once per max bytes consumed. */
  private readonly window: Buffer
  private start = 0 // first byte of the current chunk
  private end = 0 // end of buffered data
  private origin = 0 // stream offset of window[0]
  private roll = 0 // the stream's gear hash after window[end - 1]
  /** Candidate cuts from gearScan (stream offsets), ascending; cuts[next] is the first still ahead. */
  private cuts: number[] = []
  private next = 0
  private scan = 0 // how far the current chunk's warm-up has been hashed (relative to start)
  private hash = 0
  private readonly maskS: number
  private readonly maskL: number

  /** The window in WebAssembly memory and its scan, unless unavailable (or opts.wasm is false). */
  private readonly wasm: WasmScan | null

  constructor(
    private readonly gear: Int32Array,
    private readonly p: ChunkerParams = DEFAULT_CHUNKING,
    opts: { wasm?: boolean } = {},
  ) {
    checkChunkerParams(p)
    this.wasm = opts.wasm === false ? null : wasmScan(gear, p.max * 2)
    this.window = this.wasm?.window ?? Buffer.alloc(p.max * 2)
    ;({ maskS: this.maskS, maskL: this.maskL } = cutMasks(p))
    this.scan = p.min
  }

  /** Which scan runs: WebAssembly, or gearScan where WebAssembly is unavailable. */
  get scanner(): 'wasm' | 'js' {
    return this.wasm ? 'wasm' : 'js'
  }

  /** Feeds data; calls emit with each complete chunk (a fresh Buffer it may keep). */
  push(data: Buffer, emit: (chunk: Buffer) => void): void {
    let offset = 0
    while (offset < data.length) {
      if (this.end === this.window.length) this.compact()
      const take = Math.min(data.length - offset, this.window.length - this.end)
      data.copy(this.window, this.end, offset, offset + take)
      const [from, to] = [this.end, this.end + take]
      const { maskS, maskL, origin, cuts } = this
      this.roll = this.wasm
        ? this.wasm.scan(from, to, this.roll, maskS, maskL, origin, cuts)
        : gearScan(this.gear, this.window, from, to, this.roll, maskS, maskL, origin, cuts)
      this.end = to
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
    // The warm-up: the chunk's own hash, restarted at min.
    const warm = Math.min(this.p.min + WARM, max)
    if (this.scan < warm) {
      const w = this.window
      const base = this.start
      let h = this.hash
      let i = this.scan
      const limit = Math.min(warm, available)
      for (; i < limit; i++) {
        h = ((h << 1) + this.gear[w[base + i]!]!) | 0
        if ((h & (i < avg ? this.maskS : this.maskL)) === 0) return i + 1
      }
      this.hash = h
      this.scan = i
      if (i < warm) return -1
    }
    // From there on the stream's rolling hash: the scanned candidates.
    const first = this.origin + this.start
    const cuts = this.cuts
    let k = this.next
    while (k < cuts.length && at(cuts[k]!) - first < warm) k++
    this.next = k
    for (; k < cuts.length; k++) {
      const c = cuts[k]!
      const i = at(c) - first
      if (i >= max) break
      if (c < 0 || i >= avg) return i + 1
    }
    return available >= max ? max : -1
  }

  private emit(n: number, emit: (chunk: Buffer) => void): void {
    emit(Buffer.from(this.window.subarray(this.start, this.start + n)))
    this.start += n
    this.scan = this.p.min
    this.hash = 0
    if (this.next > 256) {
      this.cuts = this.cuts.slice(this.next)
      this.next = 0
    }
  }

  private compact(): void {
    this.window.copyWithin(0, this.start, this.end)
    this.origin += this.start
    this.end -= this.start
    this.start = 0
  }
}

/** The stream offset of a gearScan candidate. */
const at = (c: number) => (c < 0 ? -c - 1 : c)
