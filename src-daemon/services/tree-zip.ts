// A streaming zip of a tree archive's entries, for downloads of a directory
// with format=zip (what a person double-clicks on any desktop). Files of up
// to 1 MiB are read whole, deflated at once (or stored if that does not
// shrink them), their CRC and sizes in their header; bigger ones stream
// through a deflate (stored when their name says they are compressed
// already) with CRC and sizes in a data descriptor after the data, as they
// are known only once it has passed. Directories and symlinks carry Unix
// mode bits in the external attributes, as Info-ZIP writes them. Hard links
// become copies (zip has no links); fifos and devices are left out. Names are
// UTF-8 (flag bit 11) and mtimes are also kept in the extended-timestamp
// field, in UTC. Without ZIP64, a zip holds at most 65535 entries and 4 GiB:
// zipRefusal says so before anything is sent.
import { constants, createDeflateRaw, crc32, deflateRawSync } from 'node:zlib'
import { Readable, pipeline } from 'node:stream'
import { exactContent, type PackEntry } from './tree-pack'

const LIMIT = 0xffffffff
/** Files up to this size are read whole before their header is written. */
const SMALL_FILE = 1024 * 1024
const MAX_ENTRIES = 0xffff
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const FLAG_DESCRIPTOR = 0x0008
const FLAG_UTF8 = 0x0800
const STORED = 0
const DEFLATED = 8
/** Unix (3) in the high byte, zip 2.0 in the low one. */
const MADE_BY = (3 << 8) | 20

/** Names that deflate cannot shrink: stored as they are. */
const COMPRESSED =
  /\.(?:zip|gz|tgz|bz2|xz|zst|7z|rar|jpe?g|png|gif|webp|heic|mp[34]|m4[av]|mkv|avi|mov|webm|ogg|flac|opus|pdf|docx|xlsx|pptx|odt|ods|odp|jar|apk)$/i

/** The entries a zip holds (fifos and devices have no place in one). */
export const zippable = (e: PackEntry) =>
  e.type === 'file' || e.type === 'dir' || e.type === 'symlink' || e.type === 'hardlink'

/**
 * Why these entries cannot be one zip (too many, or more bytes than 4 GiB
 * allows even before compression), or null. Headers, names and deflate's
 * worst case are counted generously, so a zip that passes cannot overflow.
 */
export function zipRefusal(entries: readonly PackEntry[]): string | null {
  let count = 0
  let bytes = 22
  for (const e of entries) {
    if (!zippable(e)) continue
    count++
    const name = Buffer.byteLength(e.name) + 1
    const content = e.type === 'symlink' ? Buffer.byteLength(e.linkTarget ?? '') : e.size
    bytes += 30 + 9 + 16 + 46 + 9 + 2 * name + content + Math.ceil(content / 16000) * 5 + 8
  }
  if (count > MAX_ENTRIES) {
    return `a zip holds at most ${MAX_ENTRIES} entries and this folder has ${count}; download it as tar (format=tar)`
  }
  if (bytes > LIMIT) {
    return `a zip holds at most 4 GiB and this folder holds about ${(bytes / 2 ** 30).toFixed(1)} GiB; download it as tar (format=tar)`
  }
  return null
}

interface Central {
  name: Buffer
  flags: number
  method: number
  time: number
  date: number
  crc: number
  csize: number
  usize: number
  attrs: number
  offset: number
  mtime: number
}

/** The zip stream of the entries, in order; fails if it would pass 4 GiB after all. */
export async function* zipStream(
  entries: AsyncIterable<PackEntry> | Iterable<PackEntry>,
): AsyncGenerator<Buffer> {
  const central: Central[] = []
  let offset = 0
  const out = (buf: Buffer) => {
    offset += buf.length
    if (offset > LIMIT) throw new Error('the zip would pass 4 GiB; download the folder as tar')
    return buf
  }
  for await (const e of entries) {
    if (!zippable(e)) continue
    if (central.length === MAX_ENTRIES)
      throw new Error(`a zip holds at most ${MAX_ENTRIES} entries`)
    const isFile = e.type === 'file' || e.type === 'hardlink'
    const streamed = isFile && e.size > SMALL_FILE
    const name = Buffer.from(e.type === 'dir' ? `${e.name}/` : e.name, 'utf8')
    const kind = e.type === 'dir' ? S_IFDIR : e.type === 'symlink' ? S_IFLNK : S_IFREG
    const { time, date, unix } = dosTime(e.mtimeNs)
    const c: Central = {
      name,
      flags: FLAG_UTF8 | (streamed ? FLAG_DESCRIPTOR : 0),
      method: streamed && !COMPRESSED.test(e.name) ? DEFLATED : STORED,
      time,
      date,
      crc: 0,
      csize: 0,
      usize: 0,
      attrs: (((kind | (e.mode & 0o7777)) << 16) | (e.type === 'dir' ? 0x10 : 0)) >>> 0,
      offset,
      mtime: unix,
    }
    // Small files and links are whole in memory: sizes and CRC go in the local header.
    const data =
      e.type === 'symlink'
        ? Buffer.from(e.linkTarget ?? '', 'utf8')
        : isFile && !streamed
          ? await smallFile(e, c)
          : null
    if (data && !isFile) {
      c.crc = crc32(data)
      c.csize = c.usize = data.length
    }
    yield out(localHeader(c))
    if (data) yield out(data)
    if (streamed) {
      for await (const piece of fileData(e, c)) yield out(piece)
      yield out(descriptor(c))
    }
    central.push(c)
  }
  const start = offset
  for (const c of central) yield out(centralHeader(c))
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(central.length, 8)
  end.writeUInt16LE(central.length, 10)
  end.writeUInt32LE(offset - start, 12)
  end.writeUInt32LE(start, 16)
  yield out(end)
}

/**
 * A small file's data, read whole: deflated at once (a deflate stream per
 * file costs more than the file), or stored when that does not shrink it.
 */
async function smallFile(e: PackEntry, c: Central): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const buf of exactContent(e)) parts.push(buf)
  const raw = Buffer.concat(parts)
  c.crc = crc32(raw)
  c.usize = raw.length
  const packed = COMPRESSED.test(e.name) || raw.length === 0 ? raw : deflateRawSync(raw)
  const data = packed.length < raw.length ? packed : raw
  c.method = data === raw ? STORED : DEFLATED
  c.csize = data.length
  return data
}

/** A big file's data, deflated or stored, filling in the CRC and sizes as it passes. */
async function* fileData(e: PackEntry, c: Central): AsyncGenerator<Buffer> {
  const counted = Readable.from(
    (async function* () {
      for await (const buf of exactContent(e)) {
        c.crc = crc32(buf, c.crc)
        c.usize += buf.length
        yield buf
      }
    })(),
  )
  if (c.method === STORED) {
    for await (const buf of counted) {
      c.csize += (buf as Buffer).length
      yield buf as Buffer
    }
    return
  }
  const deflate = createDeflateRaw({ level: constants.Z_DEFAULT_COMPRESSION })
  pipeline(counted, deflate, () => undefined)
  try {
    for await (const buf of deflate) {
      c.csize += (buf as Buffer).length
      yield buf as Buffer
    }
  } finally {
    counted.destroy()
    deflate.destroy()
  }
}

function localHeader(c: Central): Buffer {
  const extra = timestampExtra(c.mtime)
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0)
  h.writeUInt16LE(20, 4)
  h.writeUInt16LE(c.flags, 6)
  h.writeUInt16LE(c.method, 8)
  h.writeUInt16LE(c.time, 10)
  h.writeUInt16LE(c.date, 12)
  // With a data descriptor, CRC and sizes here stay 0.
  if (!(c.flags & FLAG_DESCRIPTOR)) {
    h.writeUInt32LE(c.crc, 14)
    h.writeUInt32LE(c.csize, 18)
    h.writeUInt32LE(c.usize, 22)
  }
  h.writeUInt16LE(c.name.length, 26)
  h.writeUInt16LE(extra.length, 28)
  return Buffer.concat([h, c.name, extra])
}

function descriptor(c: Central): Buffer {
  const d = Buffer.alloc(16)
  d.writeUInt32LE(0x08074b50, 0)
  d.writeUInt32LE(c.crc, 4)
  d.writeUInt32LE(c.csize, 8)
  d.writeUInt32LE(c.usize, 12)
  return d
}

function centralHeader(c: Central): Buffer {
  const extra = timestampExtra(c.mtime)
  const h = Buffer.alloc(46)
  h.writeUInt32LE(0x02014b50, 0)
  h.writeUInt16LE(MADE_BY, 4)
  h.writeUInt16LE(20, 6)
  h.writeUInt16LE(c.flags, 8)
  h.writeUInt16LE(c.method, 10)
  h.writeUInt16LE(c.time, 12)
  h.writeUInt16LE(c.date, 14)
  h.writeUInt32LE(c.crc, 16)
  h.writeUInt32LE(c.csize, 20)
  h.writeUInt32LE(c.usize, 24)
  h.writeUInt16LE(c.name.length, 28)
  h.writeUInt16LE(extra.length, 30)
  h.writeUInt32LE(c.attrs, 38)
  h.writeUInt32LE(c.offset, 42)
  return Buffer.concat([h, c.name, extra])
}

/** The extended-timestamp field (0x5455): the mtime in seconds, UTC. */
function timestampExtra(unix: number): Buffer {
  const x = Buffer.alloc(9)
  x.writeUInt16LE(0x5455, 0)
  x.writeUInt16LE(5, 2)
  x.writeUInt8(1, 4)
  x.writeInt32LE(unix, 5)
  return x
}

/** MS-DOS date and time fields (UTC, 2-second steps, 1980-2107) and the clamped Unix seconds. */
function dosTime(ns: bigint): { time: number; date: number; unix: number } {
  const ms = Number(ns / 1_000_000n)
  const unix = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.floor(ms / 1000)))
  const d = new Date(Math.max(Date.UTC(1980, 0, 1), Math.min(Date.UTC(2107, 11, 31), ms)))
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    unix,
  }
}
