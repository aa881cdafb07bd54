// File helpers for state that must never be half-written or world-readable.
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  writeSync,
  chmodSync,
  mkdirSync,
} from 'node:fs'
import { dirname } from 'node:path'

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

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
}
