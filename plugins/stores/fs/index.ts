// Store `fs`: archives as files under a directory. A put writes a temporary
// file next to its final name, fsyncs it, renames it into place and fsyncs the
// directory, so a crash or failure never leaves a partial object under a key;
// cleanup removes the temporary files a crash leaves (temp-files.ts). The put
// is in put.ts, where a key's file lives in layout.ts.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, stat, statfs, unlink, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError, PluginNotFoundError } from '../../sdk/errors'
import {
  KEY_PATTERN,
  defineStore,
  type CleanupResult,
  type Endpoint,
  type GetOptions,
  type PluginContext,
  type StoreCapabilities,
  type StoredObject,
} from '../../sdk/types'
import { describeFsError, storeError } from './errors'
import { DIR_MODE, FILE_MODE, fileOf, isMissing, rootOf } from './layout'
import { put } from './put'
import { probeName, removeTempFiles } from './temp-files'

/** The byte range of a ranged get, as createReadStream's inclusive start and end. */
function rangeOf(opts: GetOptions | undefined): { start: number; end?: number } {
  const range = opts?.range
  if (!range) return { start: 0 }
  const { offset, length } = range
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new PluginError(`invalid range: offset ${offset}, length ${length}`)
  }
  return { start: offset, end: offset + length - 1 }
}

async function get(
  endpoint: Endpoint,
  key: string,
  ctx: PluginContext,
  opts?: GetOptions,
): Promise<Readable> {
  const root = rootOf(endpoint)
  const file = fileOf(root, key)
  const range = rangeOf(opts)
  if (ctx.signal.aborted) throw new PluginAbortedError()
  let fh
  try {
    fh = await open(file, 'r')
    if (!(await fh.stat()).isFile())
      throw Object.assign(new Error('not a file'), { code: 'ENOENT' })
  } catch (err) {
    await fh?.close()
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new PluginNotFoundError(`no object ${key} in store ${root}`, { cause: err })
    }
    throw storeError(err, root, ctx.signal, true)
  }
  if (range.end !== undefined && range.end < range.start) {
    await fh.close()
    return Readable.from([])
  }
  const stream = fh.createReadStream(range)
  const onAbort = () => stream.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  stream.once('close', () => ctx.signal.removeEventListener('abort', onAbort))
  return stream
}

async function head(
  endpoint: Endpoint,
  key: string,
  ctx: PluginContext,
): Promise<StoredObject | null> {
  const root = rootOf(endpoint)
  const file = fileOf(root, key)
  try {
    const st = await stat(file)
    return st.isFile() ? { key, size: st.size } : null
  } catch (err) {
    if (isMissing(err)) return null
    throw storeError(err, root, ctx.signal, true)
  }
}

async function remove(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<void> {
  const root = rootOf(endpoint)
  const file = fileOf(root, key)
  try {
    await unlink(file)
  } catch (err) {
    // A key naming a directory (only a prefix of other keys) holds no object either.
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return
    throw storeError(err, root, ctx.signal)
  }
  // Empty parent directories are left alone: removing them would race a
  // concurrent put that has just created one.
}

async function* list(
  endpoint: Endpoint,
  prefix: string,
  ctx: PluginContext,
): AsyncIterable<StoredObject> {
  const root = rootOf(endpoint)
  // Start the walk at the deepest directory the prefix pins down.
  const fixed = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : ''
  if (fixed && !KEY_PATTERN.test(fixed)) return
  const pending = [fixed ? join(root, ...fixed.split('/')) : root]
  while (pending.length > 0) {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    const dir = pending.pop()!
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (isMissing(err)) continue
      throw storeError(err, root, ctx.signal, true)
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      const key = relative(root, path).split(sep).join('/')
      if (!KEY_PATTERN.test(key)) continue // temporary files and anything foreign
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) pending.push(path)
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          yield { key, size: (await stat(path)).size }
        } catch (err) {
          if (!isMissing(err)) throw storeError(err, root, ctx.signal, true) // deleted meanwhile: skip
        }
      }
    }
  }
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const root = rootOf(endpoint)
  const probe = join(root, probeName())
  const content = randomBytes(32)
  try {
    await mkdir(root, { recursive: true, mode: DIR_MODE })
    const st = await stat(root)
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    const fh = await open(probe, 'wx', FILE_MODE)
    try {
      await fh.writeFile(content)
      await fh.sync()
    } finally {
      await fh.close()
    }
    const back = await readFile(probe)
    if (!back.equals(content)) {
      throw new PluginError(`${root} does not read back what was written to it; check the disk`)
    }
    await unlink(probe)
    const fs = await statfs(root)
    return `directory ${root} is writable; ${formatBytes(fs.bavail * fs.bsize)} free`
  } catch (err) {
    await unlink(probe).catch(() => undefined)
    if (err instanceof PluginError) throw err
    if (ctx.signal.aborted) throw new PluginAbortedError()
    throw describeFsError(err as NodeJS.ErrnoException, root)
  }
}

async function cleanup(
  endpoint: Endpoint,
  olderThanMs: number,
  ctx: PluginContext,
): Promise<CleanupResult> {
  return removeTempFiles(rootOf(endpoint), olderThanMs, ctx)
}

/**
 * Eight calls at once: enough to keep a local disk or a share busy while the
 * fs thread pool (four threads by default) still serves other work.
 */
const capabilities: StoreCapabilities = {
  vault: true,
  atomicPut: true,
  rangedGet: true,
  connections: 8,
}

export default defineStore({
  capabilities,
  put,
  get,
  head,
  delete: remove,
  list,
  test,
  cleanup,
})
