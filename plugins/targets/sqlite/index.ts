// Target `sqlite`: a consistent copy of an SQLite database file, taken with the
// online backup API while applications keep writing, verified with
// integrity_check and streamed out; and a restore that verifies the data in a
// temporary file next to the database, then renames it over the old file only
// while no other process is using it. The SQLite work runs in a worker
// thread (worker.ts); errors are turned into messages a person can act on.
import { randomBytes } from 'node:crypto'
import { createWriteStream, type Stats } from 'node:fs'
import {
  access,
  chmod,
  chown,
  constants,
  mkdir,
  mkdtemp,
  open,
  realpath,
  rm,
  rmdir,
  stat,
  type FileHandle,
} from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { basename, dirname, isAbsolute, join, normalize } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { headerProblem, openElsewhere } from './checks'
import { BUSY_TIMEOUT_MS, SqliteError, runTask, type DbInfo } from './worker'

function pathOf(endpoint: Endpoint): string {
  const path = endpoint.path
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new PluginError(`the database path must be an absolute path, not "${String(path)}"`)
  }
  return normalize(path)
}

const kib = (bytes: number) => Math.ceil(bytes / 1024)

function whoAmI(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

function fsError(err: unknown, what: string): Error {
  if (err instanceof PluginError || err instanceof PluginAbortedError) return err
  const e = err as NodeJS.ErrnoException
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return new PluginError(
        `permission denied to ${what}: the daemon runs as ${whoAmI()}; give that user access to the file and its directory`,
        'permanent',
        { cause: err },
      )
    case 'ENOSPC':
      return new PluginError(`no space left on the device to ${what}`, 'transient', { cause: err })
    case 'EROFS':
      return new PluginError(`cannot ${what}: the file system is read-only`, 'permanent', {
        cause: err,
      })
    default:
      return new PluginError(`could not ${what}: ${e.message}`, 'permanent', { cause: err })
  }
}

const inUse = (path: string, by = 'locked by another process') =>
  new PluginError(
    `the database ${path} is in use (${by}); stop the application using it and restore again`,
  )

/** Errors about the database at `path` (backup, test, and the lock and swap of a restore). */
function dbError(err: unknown, path: string, restoring = false): Error {
  if (err instanceof PluginError || err instanceof PluginAbortedError) return err
  if (!(err instanceof SqliteError)) return fsError(err, `use ${path}`)
  const { code, message } = err
  if (code === 'BULWARK_IN_USE' || /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    if (restoring) return inUse(path)
    return new PluginError(
      `the database ${path} stayed locked by another process for more than ${BUSY_TIMEOUT_MS / 1000} s; try again when it is less busy`,
      'transient',
    )
  }
  if (code === 'SQLITE_NOTADB') return new PluginError(`${path} is not an SQLite database`)
  if (code === 'BULWARK_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new PluginError(
      `the database ${path} is damaged (${message}); repair it (for example with the sqlite3 shell's .recover) and try again`,
    )
  }
  if (/^SQLITE_(CANTOPEN|PERM|READONLY|AUTH)/.test(code)) {
    return new PluginError(
      `could not open ${path} (${message}): the daemon runs as ${whoAmI()}; it needs to read the file${restoring ? ' and write it and its directory' : ', and for a database in WAL mode to write its directory (for the -shm file)'}`,
    )
  }
  if (code.startsWith('SQLITE_FULL')) {
    const where = restoring ? dirname(path) : tmpdir()
    return new PluginError(
      `no space left in ${where} for the copy of ${path}; it needs as much free space as the database is large`,
      'transient',
    )
  }
  const kind = code.startsWith('SQLITE_IOERR') ? 'transient' : 'permanent'
  return new PluginError(`SQLite error on ${path}: ${message} (${code})`, kind)
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

/** Refuses when another process holds a lock on the database or, on Linux, has it open. */
async function ensureUnused(file: string, path: string, ctx: PluginContext): Promise<void> {
  await runTask('probe', { file }, ctx)
  const holder = await openElsewhere(file)
  if (holder) throw inUse(path, `open in process ${holder.pid}, ${holder.command}`)
}

/**
 * The database's directory, created (0700, like the files target's) with
 * whatever parents are missing; resolves to the topmost directory it
 * created, if any.
 */
async function ensureDir(dir: string, ctx: PluginContext): Promise<string | undefined> {
  const found = await stat(dir).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ENOTDIR')
      throw new PluginError(`${dir} cannot be a directory: part of it is a file`)
    throw fsError(err, `restore into ${dir}`)
  })
  if (found) {
    if (!found.isDirectory()) throw new PluginError(`${dir} is not a directory`)
    return undefined
  }
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const top = await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR')
      throw new PluginError(`${dir} cannot be a directory: part of it is a file`)
    throw fsError(err, `create the directory ${dir}`)
  })
  ctx.log(`created the directory ${dir} (mode 0700) for the database`)
  return top
}

/** Removes the directories ensureDir created, deepest first, as long as they are empty. */
async function removeCreated(dir: string, top: string, ctx: PluginContext): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await rmdir(d)
    } catch {
      return // not empty (someone else's files): keep it, and so its parents
    }
    if (d === top || dirname(d) === d) break
  }
  ctx.log(`removed the directory ${top} again, which the failed restore had created`)
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  const path = pathOf(endpoint)
  const dir = dirname(path)
  let created: string | undefined
  try {
    created = await ensureDir(dir, ctx)
  } catch (err) {
    data.destroy()
    throw err
  }
  try {
    await restoreInto(path, data, ctx)
  } catch (err) {
    if (created) await removeCreated(dir, created, ctx)
    throw err
  }
}

async function restoreInto(path: string, data: Readable, ctx: PluginContext): Promise<void> {
  // A symbolic link is followed: the file it points to is the one replaced.
  const file = await realpath(path).catch(() => path)
  const old = await stat(file).catch(() => undefined)
  if (old && !old.isFile()) throw new PluginError(`${path} is not a file; it will not be replaced`)
  const untouched = old ? `${path} was left untouched` : `nothing was written to ${path}`
  const temp = join(
    dirname(file),
    `.${basename(file)}.bulwark-restore-${randomBytes(6).toString('hex')}`,
  )
  const dataError = (err: unknown, what: string) => {
    if (err instanceof PluginError || err instanceof PluginAbortedError) return err
    if (err instanceof SqliteError) {
      return new PluginError(
        `the data to restore is not a valid SQLite database (${err.message}); ${untouched}`,
      )
    }
    const e = err as NodeJS.ErrnoException
    if (e.syscall) return fsError(err, what)
    const why =
      e.code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'it ended before it was complete' : e.message
    return new PluginError(
      `reading the data to restore failed (${why}); ${untouched}`,
      'permanent',
      {
        cause: err,
      },
    )
  }
  try {
    // Fail before reading the data when the database is in use.
    if (old)
      await ensureUnused(file, path, ctx).catch((err: unknown) => {
        throw dbError(err, path, true)
      })
    // flush: the file is fsynced before it is closed. (A FileHandle's stream with
    // autoClose off keeps a reference that makes a later close() wait forever.)
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true })
    await pipeline(data, out, { signal: ctx.signal }).catch((err: unknown) => {
      if (ctx.signal.aborted) throw new PluginAbortedError()
      throw dataError(err, `write a temporary file in ${dirname(file)}`)
    })
    const problem = await headerProblem(temp)
    if (problem) {
      throw new PluginError(
        `the data to restore is not a valid SQLite database: ${problem}; ${untouched}`,
      )
    }
    const info = await runTask<DbInfo>('verify', { file: temp }, ctx).catch((err: unknown) => {
      throw dataError(err, `check ${temp}`)
    })
    await chmod(temp, old ? old.mode & 0o7777 : 0o600)
    if (old && process.getuid?.() === 0) await chown(temp, old.uid, old.gid)
    if (old) await ensureUnused(file, path, ctx)
    if (ctx.signal.aborted) throw new PluginAbortedError()
    await runTask('swap', { file, temp }, ctx)
    ctx.log(
      `restored ${path}: SQLite ${info.version}, ${info.tables} tables, ${kib(info.bytes)} KiB`,
    )
  } catch (err) {
    data.destroy()
    throw dbError(err, path, true)
  } finally {
    await Promise.all(
      ['', '-wal', '-shm', '-journal'].map((suffix) => rm(temp + suffix, { force: true })),
    )
  }
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
