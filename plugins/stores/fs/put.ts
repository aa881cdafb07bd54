// The fs store's put: the object written to a temporary file beside its
// final name in batches (reading the source only as fast as the disk takes
// it), fsynced, renamed into place and its directory fsynced, so a crash or
// failure never leaves a partial object under a key.
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { PluginAbortedError } from '../../sdk/errors'
import type { Endpoint, PluginContext, StoredObject } from '../../sdk/types'
import { storeError } from './errors'
import { DIR_MODE, FILE_MODE, fileOf, rootOf } from './layout'
import { tempName } from './temp-files'

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Bytes gathered from the source before one write (writev) to the file. */
const WRITE_BATCH = 4 * 1024 * 1024

/** Writes all of parts at the file's current position (writev may write less than asked). */
async function writeAll(fh: FileHandle, parts: Buffer[]): Promise<void> {
  const rest = parts.filter((p) => p.length > 0)
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest)
    if (bytesWritten === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' })
    while (rest.length > 0 && bytesWritten >= rest[0]!.length) bytesWritten -= rest.shift()!.length
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten)
  }
}

/** Creates tmp for writing; its directory (and parents) only when missing. */
async function createTemp(dir: string, tmp: string): Promise<FileHandle> {
  try {
    return await open(tmp, 'wx', FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dir, { recursive: true, mode: DIR_MODE })
  return await open(tmp, 'wx', FILE_MODE)
}

export async function put(
  endpoint: Endpoint,
  key: string,
  data: Readable,
  ctx: PluginContext,
): Promise<StoredObject> {
  const root = rootOf(endpoint)
  const file = fileOf(root, key)
  const dir = dirname(file)
  const tmp = join(dir, tempName(basename(file)))
  let fh: FileHandle | undefined
  let created = false
  // Destroyed without an error: the caller owns `data` and may not be listening
  // for one yet (an 'error' with no listener would crash the process); the
  // loop below then ends early and the catch reports the abort.
  const onAbort = () => data.destroy()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    fh = await createTemp(dir, tmp)
    created = true
    // Batches of the source, one writev each; the next batch is gathered
    // while one is written, and no further: the source is read only as fast
    // as the disk takes it.
    const out = fh
    let writing: Promise<void> = Promise.resolve()
    const write = async (parts: Buffer[]) => {
      await writing
      writing = writeAll(out, parts)
      writing.catch(() => undefined) // awaited before the next write, and at the end
    }
    let size = 0
    let batch: Buffer[] = []
    let batched = 0
    for await (const part of data) {
      const buf = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array)
      batch.push(buf)
      batched += buf.length
      if (batched >= WRITE_BATCH) {
        await write(batch)
        size += batched
        batch = []
        batched = 0
      }
    }
    await write(batch)
    await writing
    size += batched
    // fsync before close, so the rename below never publishes unwritten data.
    await fh.sync()
    await fh.close()
    fh = undefined
    if (ctx.signal.aborted) throw new PluginAbortedError()
    await rename(tmp, file)
    created = false
    await syncDir(dir)
    return { key, size }
  } catch (err) {
    data.destroy()
    await fh?.close().catch(() => undefined)
    if (created) await unlink(tmp).catch(() => undefined)
    throw storeError(err, root, ctx.signal)
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
  }
}
