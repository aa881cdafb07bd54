// The WebAssembly gear scan against its reference, the JavaScript gearScan:
// the same hits and the same hash on random windows of many sizes, from any
// offset (aligned or not), with boundaries at the edges of the window, of a
// word and of the scan's 64 KiB slices, and masks from none (every byte a
// hit) to the defaults. And the module's bytes are those of gear-scan.wat.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { gearScan, gearTable, wasmScan } from '../../src-daemon/vault/chunker'
import { GEAR_SCAN_WAT_SHA256 } from '../../src-daemon/vault/gear-scan-wasm'

/** xorshift32. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return s >>> 0
  }
}

/** The first index where a and b differ, or -1 (toEqual is slow on a million hits). */
function firstDifference(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i
  return -1
}

const top = (bits: number) => (bits === 0 ? 0 : (-1 << (32 - bits)) | 0)

describe('gear scan in WebAssembly', () => {
  it('is compiled from gear-scan.wat as it is (else: node scripts/build-gear-scan.mjs)', () => {
    const wat = readFileSync(new URL('../../src-daemon/vault/gear-scan.wat', import.meta.url))
    const text = wat.toString('utf8').replace(/\r\n/g, '\n')
    expect(createHash('sha256').update(text).digest('hex')).toBe(GEAR_SCAN_WAT_SHA256)
  })

  it('is what wabt (a devDependency) compiles gear-scan.wat to, byte for byte', () => {
    const check = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('../../scripts/build-gear-scan.mjs', import.meta.url)), '--check'],
      { encoding: 'utf8' },
    )
    expect(check.stdout.trim(), check.stderr).toBe('gear-scan-wasm.ts is up to date')
    expect(check.status).toBe(0)
  })

  it('finds what gearScan finds, on random windows, ranges, hashes and masks', () => {
    const rnd = prng(20261207)
    const SLICE = 64 * 1024
    // [maskS bits, maskL bits]: every byte a hit, dense, the defaults (avg 512 KiB), sparse.
    const masks = [
      [0, 0],
      [3, 1],
      [6, 2],
      [21, 17],
      [26, 22],
    ]
    let scans = 0
    let hits = 0
    for (const size of [1, 3, 4, 5, 64, 1000, SLICE - 1, SLICE + 5, 3 * SLICE + 2, 1 << 20]) {
      const gear = gearTable(Buffer.from(`key ${size}`))
      const scan = wasmScan(gear, size)!
      expect(scan).not.toBeNull()
      const w = scan.window
      for (let i = 0; i < size; i++) w[i] = rnd() & 255
      // Low-entropy runs too, where the hash settles.
      if (size > 100) w.fill(0, size >> 1, (size >> 1) + Math.min(size >> 2, 5000))
      const edges = [0, 1, 2, 3, 4, 5, 7, 8, SLICE - 1, SLICE, SLICE + 1, size - 4, size - 1, size]
      const point = () => {
        const e = edges[rnd() % edges.length]!
        const at = rnd() & 1 ? e : rnd() % (size + 1)
        return Math.max(0, Math.min(size, at))
      }
      for (let trial = 0; trial < 60; trial++) {
        let [from, to] = [point(), point()]
        if (from > to) [from, to] = [to, from]
        const [bitsS, bitsL] = masks[trial % masks.length]!
        const maskS = top(bitsS!)
        const maskL = top(bitsL!)
        const h = rnd() | 0
        const base = trial & 1 ? rnd() % 2 ** 30 : 0
        const expected: number[] = []
        const wasm: number[] = []
        const hJs = gearScan(gear, w, from, to, h, maskS, maskL, base, expected)
        const hWasm = scan.scan(from, to, h, maskS, maskL, base, wasm)
        const where = `size ${size}, [${from}, ${to}), masks ${bitsS}/${bitsL}`
        expect(hWasm, where).toBe(hJs)
        expect(wasm.length, where).toBe(expected.length)
        expect(firstDifference(wasm, expected), where).toBe(-1)
        scans++
        hits += expected.length
      }
    }
    expect(scans).toBe(600)
    expect(hits).toBeGreaterThan(100_000) // the dense masks hit at most bytes, edges included
  })
})
