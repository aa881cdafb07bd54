// The sqlite target's restore: the data written to a temporary file next to
// the database and verified there (header, integrity_check), then renamed over
// the old file only while no other process is using it; a directory it had
// to create is removed again when the restore fails.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { chmod, chown, mkdir, realpath, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import { headerProblem, openElsewhere } from './checks'
import { dbError, fsError, inUse, kib } from './messages'
import { SqliteError, runTask, type DbInfo } from './worker'

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

export async function restoreAt(path: string, data: Readable, ctx: PluginContext): Promise<void> {
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
