// Writing a restored file's bytes sparse (tree-restore.ts): aligned blocks
// of zeros become holes instead of written zeros.
import type { FileHandle } from 'node:fs/promises'

/** Zero blocks of this size, aligned in the file, become holes. */
const HOLE_BLOCK = 4096
const ZEROS = Buffer.alloc(HOLE_BLOCK)

/** Whether buf[at, at + HOLE_BLOCK) is all zeros (its first byte decides for almost all data). */
const zeroBlock = (buf: Buffer, at: number): boolean =>
  buf[at] === 0 && buf[at + HOLE_BLOCK - 1] === 0 && ZEROS.equals(buf.subarray(at, at + HOLE_BLOCK))

/**
 * A restored file's bytes as positioned writes that skip aligned zero blocks,
 * so a sparse file comes back sparse (as restic restore --sparse and cp
 * --sparse=always do) and a run of zeros costs no disk. A buffer with no
 * zero block costs one look at one byte per 4 KiB and is written whole.
 */
export class SparseWriter {
  /** Bytes given so far (the file's size once all are given). */
  size = 0
  /** Where the last write ended. */
  end = 0
  /** Data ready to write: runs of contiguous buffers, each with its offset. */
  private pending: [Buffer[], number][] = []
  private run: Buffer[] = []
  private runAt = 0
  private runEnd = 0

  add(buf: Buffer): void {
    const at = this.size
    this.size += buf.length
    let data = 0
    // The first block boundary of the file inside buf.
    let i = (HOLE_BLOCK - (at % HOLE_BLOCK)) % HOLE_BLOCK
    while (i + HOLE_BLOCK <= buf.length) {
      if (!zeroBlock(buf, i)) {
        i += HOLE_BLOCK
        continue
      }
      let j = i + HOLE_BLOCK
      while (j + HOLE_BLOCK <= buf.length && zeroBlock(buf, j)) j += HOLE_BLOCK
      if (i > data) this.data(buf.subarray(data, i), at + data)
      data = i = j
    }
    if (data < buf.length) this.data(data === 0 ? buf : buf.subarray(data), at + data)
  }

  /** Contiguous data joins the pending run; data after a hole starts a new one. */
  private data(buf: Buffer, at: number): void {
    if (this.run.length > 0 && at !== this.runEnd) this.pending.push([this.run, this.runAt])
    if (this.run.length === 0 || at !== this.runEnd) {
      this.run = []
      this.runAt = at
    }
    this.run.push(buf)
    this.runEnd = at + buf.length
  }

  async flush(fh: FileHandle): Promise<void> {
    if (this.run.length > 0) this.pending.push([this.run, this.runAt])
    this.run = []
    for (const [bufs, at] of this.pending.splice(0)) {
      await fh.writev(bufs, at)
      this.end = at + bufs.reduce((n, b) => n + b.length, 0)
    }
  }
}
