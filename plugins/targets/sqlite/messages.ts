// The sqlite target's words: file-system and SQLite errors turned into
// messages a person can act on (who the daemon runs as, what it needs, what
// to try), and sizes in KiB.
import { tmpdir, userInfo } from 'node:os'
import { dirname } from 'node:path'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { BUSY_TIMEOUT_MS, SqliteError } from './worker'

export const kib = (bytes: number) => Math.ceil(bytes / 1024)

function whoAmI(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

export function fsError(err: unknown, what: string): Error {
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

export const inUse = (path: string, by = 'locked by another process') =>
  new PluginError(
    `the database ${path} is in use (${by}); stop the application using it and restore again`,
  )

/** Errors about the database at `path` (backup, test, and the lock and swap of a restore). */
export function dbError(err: unknown, path: string, restoring = false): Error {
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
