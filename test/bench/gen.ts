// Benchmark data: a mix of incompressible segments (random bytes) and
// text-like segments that look like a pg_dump (COPY rows and INSERTs with
// varying ids, names, amounts, timestamps and JSON; a seeded PRNG picks the
// values, crypto.randomBytes fills the random segments). Generated lazily, in
// pieces, so a 2 GiB stream costs no more memory than one piece.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

const MiB = 1024 * 1024
const FIRST = ['ana', 'ben', 'chloé', 'dmitri', 'emma', 'farid', 'grace', 'hiro', 'ines', 'jonas']
const LAST = ['smith', 'garcia', 'müller', 'rossi', 'kowalski', 'nguyen', 'okafor', 'tanaka']
const STATUS = ['pending', 'paid', 'shipped', 'delivered', 'refunded', 'canceled']
const CITY = ['Lyon', 'Porto', 'Kraków', 'Osaka', 'Lagos', 'Austin', 'Leeds', 'Graz']

/** xorshift32 in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)]!
const pad = (n: number) => String(n).padStart(2, '0')
const stamp = (r: () => number) =>
  `2025-${pad(1 + Math.floor(r() * 12))}-${pad(1 + Math.floor(r() * 28))} ` +
  `${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}:${pad(Math.floor(r() * 60))}.${String(Math.floor(r() * 1e6)).padStart(6, '0')}+00`
const hex = (r: () => number, n: number) => {
  let s = ''
  while (s.length < n)
    s += Math.floor(r() * 2 ** 32)
      .toString(16)
      .padStart(8, '0')
  return s.slice(0, n)
}

/** One text-like block of exactly `bytes` bytes, continuing ids from state (written in place, no big strings). */
export function sqlBlock(bytes: number, r: () => number, state = { id: 1 }): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes)
  let pos = 0
  while (pos < bytes) {
    const kind = r()
    let text: string
    if (kind < 0.02) {
      text = `\\.\n\nCOPY public.orders (id, customer_id, amount, status, city, created_at, meta) FROM stdin;\n`
    } else if (kind < 0.9) {
      const id = state.id++
      const name = `${pick(r, FIRST)} ${pick(r, LAST)}`
      const meta = `{"ip": "10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}", "items": ${1 + Math.floor(r() * 9)}, "ref": "${hex(r, 12)}"}`
      text = `${id}\t${Math.floor(r() * 500_000)}\t${(r() * 2000).toFixed(2)}\t${pick(r, STATUS)}\t${pick(r, CITY)}\t${stamp(r)}\t${name}\t${meta}\n`
    } else {
      const id = state.id++
      text = `INSERT INTO public.events (id, order_id, kind, at, note) VALUES (${id}, ${Math.floor(r() * 1e7)}, '${pick(r, STATUS)}', '${stamp(r)}', 'ticket ${hex(r, 6)} by ${pick(r, FIRST)}');\n`
    }
    const n = out.write(text, pos)
    pos += n
    if (n < Buffer.byteLength(text)) {
      out.fill(0x0a, pos) // the block is full; pad where a character did not fit
      break
    }
  }
  return out
}

/**
 * Fresh text-like bytes from a base block: a window of it at a random line,
 * every digit redrawn, so numbers vary and nothing repeats, while the rest
 * keeps a dump's redundancy. Costs no allocation but the returned Buffer.
 */
function textPiece(base: Buffer, n: number, r: () => number): Buffer {
  let at = Math.floor(r() * (base.length - n))
  at = base.indexOf(0x0a, at) + 1
  if (at === 0 || at + n > base.length) at = 0
  const out = Buffer.allocUnsafeSlow(n)
  base.copy(out, 0, at, at + n)
  let s = Math.floor(r() * 2 ** 32) >>> 0 || 1
  for (let i = 0; i < n; i++) {
    const c = out[i]!
    if (c >= 0x30 && c <= 0x39) {
      s ^= s << 13
      s ^= s >>> 17
      s ^= s << 5
      out[i] = 0x30 + ((s >>> 0) % 10)
    }
  }
  return out
}

/**
 * A stream of `total` bytes in 4 MiB segments, each random with probability
 * `randomShare`, else text-like; pushed in 1 MiB pieces as the reader asks.
 */
export function mixedStream(total: number, seed = 42, randomShare = 0.4): Readable {
  const r = prng(seed)
  const base = sqlBlock(16 * MiB, r)
  const SEGMENT = 4 * MiB
  const PIECE = MiB
  let sent = 0
  let random = false
  return new Readable({
    highWaterMark: PIECE,
    read() {
      if (sent >= total) return void this.push(null)
      if (sent % SEGMENT === 0) random = r() < randomShare
      const n = Math.min(PIECE, total - sent, SEGMENT - (sent % SEGMENT))
      sent += n
      this.push(random ? randomBytes(n) : textPiece(base, n, r))
    },
  })
}
