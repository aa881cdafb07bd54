// Reading a walked file for a tree backup (tree-writer.ts): its record's
// type and identity from its stat, and its bytes checked against that stat,
// so a file that changes while read fails the backup instead of being kept
// half old, half new.
import type { BigIntStats } from 'node:fs'
import { open } from 'node:fs/promises'
import { PluginError } from '../../plugins/sdk/errors'
import type { TreeRecord } from './tree'
import { walkProblem, type WalkEntry } from './tree-walk'

export const ns = (st: BigIntStats) => ({
  mtime_ns: st.mtimeNs.toString(),
  ctime_ns: st.ctimeNs.toString(),
  ino: st.ino.toString(),
  dev: st.dev.toString(),
})

export const TYPE_OF = (st: BigIntStats): TreeRecord['type'] | undefined =>
  st.isFile()
    ? 'file'
    : st.isDirectory()
      ? 'dir'
      : st.isSymbolicLink()
        ? 'symlink'
        : st.isFIFO()
          ? 'fifo'
          : st.isCharacterDevice()
            ? 'chardev'
            : st.isBlockDevice()
              ? 'blockdev'
              : undefined

/** The file changed while read: the same words as the files target's tar message. */
export function changed(abs: string, why: string): PluginError {
  return new PluginError(
    `a file changed while it was being backed up (${abs}: ${why}); run the backup again, or exclude files that are always being written`,
    'transient',
  )
}

export function checkUnchanged(
  abs: string,
  before: BigIntStats,
  after: BigIntStats,
  got: number,
): void {
  if (got !== Number(before.size)) throw changed(abs, `${got} bytes read of ${before.size}`)
  if (after.size !== before.size) throw changed(abs, `size ${before.size} became ${after.size}`)
  if (after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
    throw changed(abs, 'modified while read')
  }
  if (after.ino !== before.ino) throw changed(abs, 'replaced while read')
}

/** Opens a walked file for reading; a failure names the file as the walk does. */
export async function openEntry(e: WalkEntry) {
  try {
    return await open(e.abs, 'r')
  } catch (err) {
    throw walkProblem(err, e.abs)
  }
}

/**
 * A small file's bytes, checked against its walk stat: open, one read of a
 * byte more than its size (more means it grew), fstat, close; four thread-pool
 * round trips, the fewest that can tell a file changed while read.
 */
export async function readSmall(e: WalkEntry): Promise<Buffer> {
  const size = Number(e.st.size)
  const fh = await openEntry(e)
  try {
    const buf = Buffer.allocUnsafe(size + 1)
    let got = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got)
      got += bytesRead
      if (bytesRead === 0 || got >= buf.length) break
    }
    if (got > size) throw changed(e.abs, `grew past ${size} bytes`)
    checkUnchanged(e.abs, e.st, await fh.stat({ bigint: true }), got)
    return buf.subarray(0, got)
  } finally {
    await fh.close().catch(() => undefined)
  }
}
