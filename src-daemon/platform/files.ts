// File helpers for state that must never be half-written or world-readable.
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  writeSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  statSync,
} from 'node:fs'
import { dirname, join } from 'node:path'

/** Writes to a temporary name, fsyncs, then renames over the target. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  const fd = openSync(tmp, 'w', mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  chmodSync(tmp, mode)
  renameSync(tmp, path)
}

/**
 * Creates the directory 0700, or makes an existing one 0700, and takes group
 * and other permissions off the regular files directly in it (a data
 * directory made by hand, or restored from a copy, with 0755 and 0644).
 * Symbolic links and subdirectories are left alone.
 */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  if ((statSync(path).mode & 0o777) !== 0o700) chmodSync(path, 0o700)
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isFile()) makePrivate(join(path, entry.name))
  }
}

/** Takes group and other permissions off a regular file, if there is one at `path`. */
export function makePrivate(path: string): void {
  try {
    const st = lstatSync(path)
    if (st.isFile() && (st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
