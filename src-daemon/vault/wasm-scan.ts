// The chunker's gear scan (chunker.ts, gearScan) in WebAssembly, for speed:
// the same hits as the JavaScript scan, over a window kept in WebAssembly
// memory. Where WebAssembly is unavailable the chunker scans in JavaScript.
import { GEAR_SCAN_WASM_BASE64 } from './gear-scan-wasm'

export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

/**
 * gearScan as WebAssembly: gear-scan.wat, compiled (scripts/build-gear-scan.mjs)
 * into gear-scan-wasm.ts. Two functions over an imported memory whose first
 * 1 KiB holds the gear table, bytes(p, end, h, maskS, maskL, out) a byte at a
 * time and words(...) a 32-bit word at a time, each of which hashes
 * memory[p, end) on from h, stores every hit as an i32 at out (its address,
 * or -address - 1 where maskS matches too), returns the new out, and leaves
 * the hash in the exported global h.
 */
const gearScanModule = (): Uint8Array => Buffer.from(GEAR_SCAN_WASM_BASE64, 'base64')

/** The little of the WebAssembly API used here (not in the ES library typings). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer }
}
type WasmScanFn = (
  p: number,
  end: number,
  h: number,
  maskS: number,
  maskL: number,
  out: number,
) => number

let wasmModule: object | null | undefined
/** The compiled scan, or null where WebAssembly is unavailable. */
function scanModule(): object | null {
  if (wasmModule === undefined) {
    try {
      const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly
      // WebAssembly memory is little-endian: the typed arrays below must be too.
      wasmModule = wasm && LITTLE_ENDIAN ? new wasm.Module(gearScanModule()) : null
    } catch {
      wasmModule = null
    }
  }
  return wasmModule
}

/** Bytes scanned per call, so that hits (4 bytes each, at most one per byte) fit their area. */
const SLICE = 64 * 1024
const HITS_AT = 1024 // after the gear table
const WINDOW_AT = HITS_AT + 4 * SLICE

/**
 * A chunker window in WebAssembly memory, and gearScan over it. The memory
 * never grows, so the window stays valid.
 */
export class WasmScan {
  readonly window: Buffer
  private readonly words: Int32Array
  private readonly bytesFn: WasmScanFn
  private readonly wordsFn: WasmScanFn
  private readonly h: { value: number }

  constructor(module: object, gear: Int32Array, size: number) {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly
    const pages = Math.ceil((WINDOW_AT + size) / 65536)
    const memory = new wasm.Memory({ initial: pages, maximum: pages })
    const { exports } = new wasm.Instance(module, { env: { memory } })
    this.bytesFn = exports.bytes as WasmScanFn
    this.wordsFn = exports.words as WasmScanFn
    this.h = exports.h as { value: number }
    this.words = new Int32Array(memory.buffer)
    this.words.set(gear)
    this.window = Buffer.from(memory.buffer, WINDOW_AT, size)
  }

  /** gearScan over window[from, to). */
  scan(
    from: number,
    to: number,
    h: number,
    maskS: number,
    maskL: number,
    base: number,
    out: number[],
  ): number {
    const hits = this.words
    for (let p = WINDOW_AT + from, end = WINDOW_AT + to; p < end;) {
      const stop = Math.min(end, p + SLICE)
      let o = HITS_AT
      const aligned = Math.min(stop, (p + 3) & ~3)
      if (p < aligned) o = this.bytesFn(p, aligned, h, maskS, maskL, o)
      if (p < aligned) h = this.h.value
      p = aligned
      const whole = p + ((stop - p) & ~3)
      if (p < whole) o = this.wordsFn(p, whole, h, maskS, maskL, o)
      if (p < whole) h = this.h.value
      p = whole
      if (p < stop) o = this.bytesFn(p, stop, h, maskS, maskL, o)
      if (p < stop) h = this.h.value
      p = stop
      const shift = base - WINDOW_AT
      for (let k = HITS_AT >> 2; k < o >> 2; k++) {
        const v = hits[k]!
        out.push(v < 0 ? v - shift : v + shift)
      }
    }
    return h
  }
}

/** gearScan in WebAssembly over a window of `size` bytes, or null where WebAssembly is unavailable. */
export function wasmScan(gear: Int32Array, size: number): WasmScan | null {
  const module = scanModule()
  return module ? new WasmScan(module, gear, size) : null
}
