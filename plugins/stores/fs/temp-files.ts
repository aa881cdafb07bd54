// The fs store's temporary files: how a put names the file it writes before
// renaming it into place, and cleanup, which removes the ones a crash left
// behind (a daemon killed mid-put never gets to unlink its temporary file).
// '~' cannot occur in a key, so these names never collide with an object and
// list never shows them.
import { randomBytes } from 'node:crypto'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PluginAbortedError } from '../../sdk/errors'
import type { CleanupResult, PluginContext } from '../../sdk/types'
import { storeError } from './errors'

/** The temporary file a put of `name` writes first (in the same directory). */
export const tempName = (name: string) =>
  `.tmp~${randomBytes(6).toString('hex')}~${name.slice(0, 100)}`

/** The probe file test() writes at the root. */
export const probeName = () => `.probe~${randomBytes(6).toString('hex')}`

/** Names made by tempName or probeName. */
export const TEMP_FILE = /^\.(?:tmp~[0-9a-f]{12}~|probe~[0-9a-f]{12}$)/

/**
 * Removes temporary and probe files under root last modified more than
 * olderThanMs ago. A put rewrites its file as data arrives, so one still
 * running is younger than any sensible age; objects are never touched.
 */
export async function removeTempFiles(
  root: string,
  olderThanMs: number,
  ctx: PluginContext,
): Promise<CleanupResult> {
  const cutoff = Date.now() - olderThanMs
  const result = { removed: 0, bytes: 0 }
  const pending = [root]
  while (pending.length > 0) {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    const dir = pending.pop()!
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') continue
      throw storeError(err, root, ctx.signal)
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) pending.push(path)
      if (!entry.isFile() || !TEMP_FILE.test(entry.name)) continue
      try {
        const st = await lstat(path)
        if (st.mtimeMs > cutoff) continue
        await unlink(path)
        result.removed++
        result.bytes += st.size
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // removed meanwhile
        throw storeError(err, root, ctx.signal)
      }
    }
  }
  return result
}
