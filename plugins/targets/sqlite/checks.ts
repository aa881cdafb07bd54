// File-level checks of the `sqlite` target that need no SQLite connection:
// whether bytes look like a whole SQLite database (header magic, and a size
// that matches the page count the header records), and which other process
// has a file open (Linux /proc; an idle connection in rollback-journal mode
// holds no lock, so SQLite alone cannot see it).
import { open, readdir, readFile, readlink } from 'node:fs/promises'

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1')
const HEADER = 100

/**
 * Why the file is not a complete SQLite database, or undefined when its header
 * is sound. An empty file would open as an empty database, but a backup is
 * never empty (even that of an empty database has its first page), so no data
 * at all is refused too.
 */
export async function headerProblem(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    if (size === 0) return 'it is empty'
    const head = Buffer.alloc(HEADER)
    const { bytesRead } = await fh.read(head, 0, HEADER, 0)
    if (bytesRead < HEADER || !head.subarray(0, MAGIC.length).equals(MAGIC)) {
      return 'it does not start with an SQLite header'
    }
    const raw = head.readUInt16BE(16)
    const pageSize = raw === 1 ? 65536 : raw
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return 'its header is damaged'
    if (size % pageSize !== 0)
      return `it is truncated (${size} bytes is not a whole number of pages)`
    // The page count in the header is valid when the change counter matches "version-valid-for".
    const pages = head.readUInt32BE(28)
    if (pages > 0 && head.readUInt32BE(24) === head.readUInt32BE(92)) {
      const expected = pages * pageSize
      if (size < expected) return `it is truncated (${size} of ${expected} bytes)`
      if (size > expected)
        return `it is longer than its header says (${size}, not ${expected} bytes)`
    }
    return undefined
  } finally {
    await fh.close()
  }
}

export interface Holder {
  pid: number
  command: string
}

/** Another process (not this one) with `file` open, as far as /proc lets us see. */
export async function openElsewhere(file: string): Promise<Holder | undefined> {
  if (process.platform !== 'linux') return undefined
  let pids: string[]
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue
    let fds: string[]
    try {
      fds = await readdir(`/proc/${pid}/fd`)
    } catch {
      continue // gone, or another user's process
    }
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
      if (target !== file) continue
      const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')
      return { pid: Number(pid), command: command.trim() }
    }
  }
  return undefined
}
