// A streaming POSIX tar (ustar headers, with a pax extended header when a
// field does not fit: long or non-ASCII names and link targets, sizes of
// 8 GiB and more, big ids, and the mtime's fraction of a second), written
// from a tree archive's entries for downloads of a directory. Nothing is
// buffered beyond one entry's header and the chunk being passed on.
import { exactContent, type PackEntry } from './tree-pack'

const BLOCK = 512
const ZERO_BLOCKS = Buffer.alloc(BLOCK * 2)

const TYPE_FLAG: Record<PackEntry['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  dir: '5',
  fifo: '6',
}

/** The tar stream of the entries (see PackEntry), ending with two zero blocks. */
export async function* tarStream(
  entries: AsyncIterable<PackEntry> | Iterable<PackEntry>,
): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const pax = paxRecords(entry)
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(''), 'utf8')
      yield header({ ...paxHeaderEntry(entry), size: body.length }, '', 'x')
      yield body
      yield padding(body.length)
    }
    yield header(entry, entry.linkTarget ?? '')
    if (entry.type !== 'file') continue
    yield* exactContent(entry)
    yield padding(entry.size)
  }
  yield ZERO_BLOCKS
}

/** How many bytes tarStream gives for these entries: a download's content-length. */
export function tarLength(entries: Iterable<PackEntry>): number {
  let bytes = ZERO_BLOCKS.length
  for (const e of entries) {
    const pax = paxRecords(e)
    if (pax.length > 0) {
      const body = Buffer.byteLength(pax.join(''), 'utf8')
      bytes += BLOCK + body + padding(body).length
    }
    bytes += BLOCK
    if (e.type === 'file') bytes += e.size + padding(e.size).length
  }
  return bytes
}

const nameOf = (e: PackEntry) => (e.type === 'dir' ? `${e.name}/` : e.name)

const MAX_SIZE = 0o77777777777 // what 11 octal digits hold
const MAX_ID = 0o7777777

const seconds = (ns: bigint) => {
  const s = ns / 1_000_000_000n
  return ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s
}

/** "30 path=…\n" records for what the ustar header cannot say. */
function paxRecords(e: PackEntry): string[] {
  const out: string[] = []
  const name = nameOf(e)
  if (!splitName(name)) out.push(paxRecord('path', name))
  const link = e.linkTarget ?? ''
  if (!fitsAscii(link, 100)) out.push(paxRecord('linkpath', link))
  if (e.type === 'file' && e.size > MAX_SIZE) out.push(paxRecord('size', String(e.size)))
  if (e.uid > MAX_ID) out.push(paxRecord('uid', String(e.uid)))
  if (e.gid > MAX_ID) out.push(paxRecord('gid', String(e.gid)))
  if (e.user && !fitsAscii(e.user, 32)) out.push(paxRecord('uname', e.user))
  if (e.group && !fitsAscii(e.group, 32)) out.push(paxRecord('gname', e.group))
  const secs = seconds(e.mtimeNs)
  const frac = e.mtimeNs - secs * 1_000_000_000n
  if (frac !== 0n || secs < 0n || secs > 0o77777777777n) {
    out.push(paxRecord('mtime', `${secs}.${String(frac).padStart(9, '0').replace(/0+$/, '')}`))
  }
  return out
}

/** One pax record; its length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`
  const bytes = Buffer.byteLength(rest)
  let len = bytes + String(bytes).length
  if (String(len).length !== String(bytes).length) len = bytes + String(len).length
  return `${len}${rest}`
}

/** The 'x' header that goes before an entry's own, named like ustar implementations do. */
function paxHeaderEntry(e: PackEntry): PackEntry {
  const base = e.name.slice(e.name.lastIndexOf('/') + 1)
  const dir = e.name.includes('/') ? e.name.slice(0, e.name.lastIndexOf('/')) : '.'
  return {
    name: asciiPrefix(`${dir}/PaxHeaders/${base}`, 99),
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtimeNs: 0n,
    size: 0,
  }
}

function fitsAscii(text: string, max: number): boolean {
  // eslint-disable-next-line no-control-regex
  return text.length <= max && /^[\x01-\x7f]*$/.test(text)
}

const asciiPrefix = (text: string, max: number) => text.replace(/[^\x20-\x7e]/g, '_').slice(0, max)

/** [prefix, name] for the ustar fields (155 and 100 bytes, split at a '/'), or null. */
function splitName(name: string): [string, string] | null {
  if (!fitsAscii(name, 256)) return null
  if (name.length <= 100) return ['', name]
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    if (i > 155) break
    if (name.length - i - 1 <= 100 && i > 0) return [name.slice(0, i), name.slice(i + 1)]
  }
  return null
}

function header(e: PackEntry, link: string, flag = TYPE_FLAG[e.type]): Buffer {
  const h = Buffer.alloc(BLOCK)
  const name = nameOf(e)
  const [prefix, short] = splitName(name) ?? ['', asciiPrefix(name, 100)]
  h.write(short, 0, 100, 'ascii')
  octal(h, 100, 8, e.mode & 0o7777)
  octal(h, 108, 8, Math.min(e.uid, MAX_ID))
  octal(h, 116, 8, Math.min(e.gid, MAX_ID))
  octal(h, 124, 12, e.type === 'file' ? Math.min(e.size, MAX_SIZE) : 0)
  const secs = seconds(e.mtimeNs)
  octal(h, 136, 12, Number(secs < 0n ? 0n : secs > 0o77777777777n ? 0o77777777777n : secs))
  h.fill(0x20, 148, 156) // the checksum counts its own field as spaces
  h.write(flag, 156, 1, 'ascii')
  h.write(fitsAscii(link, 100) ? link : asciiPrefix(link, 100), 157, 100, 'ascii')
  h.write('ustar\u000000', 257, 8, 'ascii')
  if (e.user) h.write(asciiPrefix(e.user, 32), 265, 32, 'ascii')
  if (e.group) h.write(asciiPrefix(e.group, 32), 297, 32, 'ascii')
  octal(h, 329, 8, 0)
  octal(h, 337, 8, 0)
  h.write(prefix, 345, 155, 'ascii')
  let sum = 0
  for (const byte of h) sum += byte
  octal(h, 148, 7, sum)
  return h
}

/** A zero-padded octal number ending with NUL, in a field of `width` bytes. */
function octal(h: Buffer, at: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, at, width, 'ascii')
}

function padding(size: number): Buffer {
  const rest = size % BLOCK
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest)
}
