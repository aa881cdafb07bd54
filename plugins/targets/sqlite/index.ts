// Target `sqlite`: a consistent copy of an SQLite database file, taken with the
// online backup API while applications keep writing, verified with
// integrity_check and streamed out; and a restore that verifies the data in a
// temporary file next to the database, then renames it over the old file only
// while no other process is using it. The SQLite work runs in a worker
// thread (worker.ts); errors are turned into messages a person can act on
// (messages.ts). The restore is in restore.ts.
import type { Stats } from 'node:fs'
import { access, constants, mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, normalize } from 'node:path'
import type { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { dbError, fsError, kib } from './messages'
import { restoreAt } from './restore'
import { runTask, type DbInfo } from './worker'

function pathOf(endpoint: Endpoint): string {
  const path = endpoint.path
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new PluginError(`the database path must be an absolute path, not "${String(path)}"`)
  }
  return normalize(path)
}

/** The existing database file, or a permanent error saying why there is none. */
async function existing(path: string): Promise<Stats> {
  let found: Stats
  try {
    found = await stat(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new PluginError(`no SQLite database at ${path}`)
    throw fsError(err, `read ${path}`)
  }
  if (!found.isFile()) throw new PluginError(`${path} is not a file, so not an SQLite database`)
  await access(path, constants.R_OK).catch((err: unknown) => {
    throw fsError(err, `read ${path}`)
  })
  return found
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const path = pathOf(endpoint)
  await existing(path)
  // mkdtemp makes the directory 0700; the copy is created 0600 before SQLite writes into it.
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-sqlite-')).catch((err: unknown) => {
    throw fsError(err, `create a temporary directory in ${tmpdir()}`)
  })
  const removeDir = () => rm(dir, { recursive: true, force: true })
  const copy = join(dir, 'copy.db')
  let fh: FileHandle | undefined
  try {
    await (await open(copy, 'wx', 0o600)).close()
    const info = await runTask<DbInfo>('backup', { file: path, dest: copy }, ctx)
    ctx.log(
      `copied ${path} (SQLite ${info.version}, ${info.tables} tables, ${kib(info.bytes)} KiB, ${info.journalMode} mode); integrity_check ok`,
    )
    fh = await open(copy, 'r')
    if (ctx.signal.aborted) throw new PluginAbortedError()
  } catch (err) {
    await fh?.close()
    await removeDir()
    throw dbError(err, path)
  }
  // The open handle keeps the copy readable, so remove it now: nothing is left
  // behind whatever becomes of the stream. (Where an open file can't be removed,
  // Windows, it goes when the stream closes.)
  const removed = await removeDir().then(
    () => true,
    () => false,
  )
  const stream = fh.createReadStream({ highWaterMark: 1024 * 1024 })
  const onAbort = () => stream.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  stream.once('close', () => {
    ctx.signal.removeEventListener('abort', onAbort)
    if (!removed) void removeDir().catch(() => undefined)
  })
  return stream
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  return restoreAt(pathOf(endpoint), data, ctx)
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const path = pathOf(endpoint)
  await existing(path)
  const info = await runTask<DbInfo>('describe', { file: path }, ctx).catch((err: unknown) => {
    throw dbError(err, path)
  })
  return `SQLite ${info.version} database ${path}: ${info.tables} tables, ${kib(info.bytes)} KiB`
}

export default defineTarget({ backup, restore, test })
