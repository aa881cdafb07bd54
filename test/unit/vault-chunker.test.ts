// The chunker against the spec (docs/vault-format.md, "Chunking") written out
// naively: the same cut points whatever the pieces the stream arrives in,
// with edge parameters, low-entropy data and unaligned buffers, for both of
// its scans (WebAssembly and JavaScript); plus pinned cut points, so that
// existing vaults keep deduplicating.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  Chunker,
  DEFAULT_CHUNKING,
  gearScan,
  gearTable,
  type ChunkerParams,
} from '../../src-daemon/vault/chunker'

/** xorshift32 bytes. */
function prngBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n)
  let s = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    out[i] = s & 255
  }
  return out
}

const text = (n: number) =>
  Buffer.from(
    Array.from(
      { length: Math.ceil(n / 40) },
      (_, i) => `${i}\torders\t${(i * 37) % 1000}.50\n`,
    ).join(''),
  ).subarray(0, n)

/** The spec, one chunk at a time over the whole stream: chunk lengths. */
function specChunks(key: Buffer, data: Buffer, p: ChunkerParams): number[] {
  const gear: number[] = []
  for (let b = 0; b < 32; b++) {
    const d = createHmac('sha256', key).update(`bulwark-gear-${b}`).digest()
    for (let i = 0; i < 8; i++) gear.push(d.readInt32LE(i * 4))
  }
  const bits = Math.log2(p.avg)
  const maskS = (-1 << (32 - (bits + 2))) | 0
  const maskL = (-1 << (32 - (bits - 2))) | 0
  const lengths: number[] = []
  for (let s = 0; s < data.length;) {
    const n = Math.min(data.length - s, p.max)
    let cut = n
    let h = 0
    for (let i = p.min; i < n; i++) {
      h = ((h << 1) + gear[data[s + i]!]!) | 0
      if ((h & (i < p.avg ? maskS : maskL)) === 0) {
        cut = i + 1
        break
      }
    }
    lengths.push(cut)
    s += cut
  }
  return lengths
}

function chunked(
  key: Buffer,
  data: Buffer,
  p: ChunkerParams,
  piece: number,
  wasm = true,
): number[] {
  const chunker = new Chunker(gearTable(key), p, { wasm })
  expect(chunker.scanner).toBe(wasm ? 'wasm' : 'js')
  const lengths: number[] = []
  let offset = 0
  const emit = (c: Buffer) => {
    expect(c.equals(data.subarray(offset, offset + c.length))).toBe(true)
    offset += c.length
    lengths.push(c.length)
  }
  for (let o = 0; o < data.length; o += piece) chunker.push(data.subarray(o, o + piece), emit)
  chunker.finish(emit)
  expect(offset).toBe(data.length)
  return lengths
}

describe('chunker', () => {
  const key = Buffer.alloc(32, 7)

  it('cuts where the spec cuts, whatever the pieces (default parameters)', () => {
    const data = Buffer.concat([prngBytes(5 << 20, 1), text(4 << 20), prngBytes(3 << 20, 2)])
    const expected = specChunks(key, data, DEFAULT_CHUNKING)
    expect(expected.length).toBeGreaterThan(8)
    for (const piece of [65536, 1 << 20, (1 << 20) + 3, 5 << 20, data.length]) {
      for (const wasm of [true, false]) {
        expect(chunked(key, data, DEFAULT_CHUNKING, piece, wasm)).toEqual(expected)
      }
    }
  })

  it('cuts where the spec cuts with small and edge parameters, in pieces of any size', () => {
    const data = Buffer.concat([
      prngBytes(300_000, 3),
      text(200_000),
      Buffer.alloc(50_000), // low entropy: the hash settles
      Buffer.alloc(20_000, 0xff),
      prngBytes(100_000, 4),
    ])
    const params: ChunkerParams[] = [
      { min: 64, avg: 1024, max: 4096 },
      { min: 1000, avg: 1024, max: 1025 }, // the warm-up runs past avg and up to max
      { min: 900, avg: 1024, max: 8192 },
      { min: 2048, avg: 4096, max: 65536 },
    ]
    for (const p of params) {
      const expected = specChunks(key, data, p)
      for (const piece of [1, 7, 31, 32, 33, 1000, 4096, 65537, data.length]) {
        for (const wasm of [true, false]) {
          expect(chunked(key, data, p, piece, wasm)).toEqual(expected)
        }
      }
    }
  })

  it('scans unaligned buffers as a byte at a time would', () => {
    const gear = gearTable(key)
    const data = prngBytes(70_001, 5)
    const maskS = (-1 << 22) | 0
    const maskL = (-1 << 18) | 0
    // Plenty of candidates with 4 + 2 bits, so that every lane of the word loop matters.
    for (const [mS, mL] of [
      [maskS, maskL],
      [(-1 << 26) | 0, (-1 << 28) | 0],
    ] as const) {
      const bytewise: number[] = []
      let h = 0
      for (let i = 0; i < data.length; i++) {
        h = ((h << 1) + gear[data[i]!]!) | 0
        if ((h & mL) === 0) bytewise.push((h & mS) === 0 ? -(1000 + i) - 1 : 1000 + i)
      }
      for (const shift of [0, 1, 2, 3, 5]) {
        const copy = Buffer.alloc(data.length + 8)
        data.copy(copy, shift)
        const bytes = copy.subarray(shift, shift + data.length)
        for (const split of [0, 3, 4097, 70_000]) {
          const out: number[] = []
          let r = gearScan(gear, bytes, 0, split, 0, mS, mL, 1000, out)
          r = gearScan(gear, bytes, split, bytes.length, r, mS, mL, 1000, out)
          expect(r).toBe(h)
          expect(out).toEqual(bytewise)
        }
      }
    }
  })

  it('known answer: the cut points of existing vaults', () => {
    expect(Array.from(gearTable(key).subarray(0, 4))).toEqual([
      -664493446, 1380734079, -1506682358, 1972669967,
    ])
    const data = Buffer.concat([
      prngBytes(6 << 20, 1),
      Buffer.from('COPY public.orders 1\t2\t3\n'.repeat(100000)),
      prngBytes(3 << 20, 2),
    ])
    // Vaults made before the default became 512 KiB keep these in their config.
    const before = { min: 262144, avg: 1048576, max: 4194304 }
    for (const wasm of [true, false]) {
      expect(chunked(key, data, before, 65536, wasm)).toEqual([
        1309521, 580346, 1067444, 1149334, 1211523, 3558159, 881053, 1727328, 452476,
      ])
    }
  })
})
