// What the tar and zip writers of tree downloads (tree-tar.ts, tree-zip.ts)
// take: entries already named as they go into the download, in order, each
// file with a way to open its content. Both writers are async generators of
// Buffers, so a consumer that stops (the client went away) ends the
// generator, which closes the content stream it was reading.
import type { Readable } from 'node:stream'
import type { TreeEntryType } from '../contract'

export interface PackEntry {
  /** Relative, '/'-separated, without a trailing '/' (the writer adds it for directories). */
  name: string
  type: TreeEntryType
  /** Permission and set-id bits. */
  mode: number
  uid: number
  gid: number
  user?: string
  group?: string
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint
  /** A file's content bytes (0 for the other types). */
  size: number
  /** A symlink's target, or the name (in this download) a hard link shares content with. */
  linkTarget?: string
  /** A file's content: must give exactly `size` bytes. */
  open?: () => Promise<Readable>
}

/**
 * The entry's content, checked to hold exactly `size` bytes: a download
 * whose headers announced one size and whose bytes differ would be a
 * corrupt tar or zip that looks whole, so it fails instead.
 */
export async function* exactContent(entry: PackEntry): AsyncGenerator<Buffer> {
  if (entry.size === 0 && !entry.open) return
  if (!entry.open) throw new Error(`${entry.name}: no content to read`)
  const stream = await entry.open()
  let bytes = 0
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer
      bytes += buf.length
      if (bytes > entry.size) break
      yield buf
    }
  } finally {
    stream.destroy()
  }
  if (bytes !== entry.size) {
    throw new Error(
      `${entry.name} should hold ${entry.size} bytes but the archive gave ${bytes}${bytes > entry.size ? ' or more' : ''}`,
    )
  }
}
