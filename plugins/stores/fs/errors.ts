// Turns the errno codes a local or mounted file system produces into messages
// a person can act on. The path named is the store's directory, never a
// temporary file: that is what the user configured and can fix.
import { PluginAbortedError, PluginError } from '../../sdk/errors'

/**
 * Codes that may clear up on their own (a flaky network share, a busy
 * device). A full disk or a permission problem stays until someone acts.
 */
const TRANSIENT = new Set([
  'EIO',
  'EAGAIN',
  'EBUSY',
  'ETIMEDOUT',
  'ESTALE',
  'EINTR',
  'ENOLCK',
  'ECONNRESET',
  'ENOTCONN',
  'EHOSTDOWN',
  'EHOSTUNREACH',
])

export function describeFsError(
  err: NodeJS.ErrnoException,
  root: string,
  reading = false,
): PluginError {
  const opts = { cause: err }
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new PluginError(
        `the disk holding ${root} is full; free some space, prune old archives or choose another directory`,
        'permanent',
        opts,
      )
    case 'EACCES':
    case 'EPERM':
      if (reading) {
        return new PluginError(
          `Bulwark cannot read ${root}: permission denied; give the daemon's user access to it`,
          'permanent',
          opts,
        )
      }
      return new PluginError(
        `Bulwark cannot write to ${root}: permission denied; give the daemon's user write access or choose another directory`,
        'permanent',
        opts,
      )
    case 'EROFS':
      return new PluginError(
        `Bulwark cannot write to ${root}: the file system is mounted read-only`,
        'permanent',
        opts,
      )
    case 'ENOTDIR':
    case 'EEXIST':
      return new PluginError(
        `${root} cannot hold archives: a file is in the way where a directory should be (${err.path ?? root})`,
        'permanent',
        opts,
      )
    case 'ENAMETOOLONG':
      return new PluginError(
        `a path under ${root} is too long for its file system`,
        'permanent',
        opts,
      )
    case 'EMFILE':
    case 'ENFILE':
      return new PluginError(
        `the daemon has too many files open to use ${root}; try again later`,
        'transient',
        opts,
      )
    default:
      return new PluginError(
        `${root}: ${err.code === 'EIO' ? 'input/output error; check the disk or share' : err.message}`,
        TRANSIENT.has(err.code ?? '') ? 'transient' : 'permanent',
        opts,
      )
  }
}

/**
 * The error a store call rejects with: abort wins, file-system errors are
 * described, and anything else (say, the source stream of a put failing) is
 * passed on unchanged, since it is not the store's to explain.
 */
export function storeError(
  err: unknown,
  root: string,
  signal: AbortSignal,
  reading = false,
): Error {
  if (signal.aborted || err instanceof PluginAbortedError) return new PluginAbortedError()
  if (err instanceof PluginError) return err
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code === 'string' && typeof e.syscall === 'string')
    return describeFsError(e, root, reading)
  return err instanceof Error ? err : new Error(String(err))
}
