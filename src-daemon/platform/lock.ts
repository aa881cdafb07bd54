// One daemon per data directory: a lock file holding the owner's pid. A lock
// left by a dead process is taken over; a live owner makes the start fail.
//
// The lock appears whole or not at all: the pid is written to a file of our
// own first, which is then hard-linked to daemon.lock. link(2) fails with
// EEXIST when the name is taken, atomically, so of two daemons started at the
// same instant exactly one gets the lock, and nobody ever reads a lock file
// that is still empty. A stale lock (its pid is gone) is removed only while
// holding daemon.lock.break, taken the same way, after reading it again: two
// daemons finding the same stale lock cannot both remove it and both run.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `another Bulwark daemon (pid ${pid}) is already running with data directory ${dataDir}. ` +
        `Stop it first, or start this one with another --data-dir.`,
    )
    this.name = 'DataDirLockedError'
  }
}

const LOCK_FILE = 'daemon.lock'
const BREAK_FILE = 'daemon.lock.break'
/** A break lock older than this was left by a process that died while breaking a stale lock. */
const BREAK_STALE_MS = 30_000
const ATTEMPTS = 20

/** Whether a process with this pid exists (one we may not signal counts). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the data directory's lock; returns the function that releases it. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE)
  const me = String(process.pid)
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (linkNew(dataDir, path, me)) {
      return () => {
        try {
          if (readFileSync(path, 'utf8') === me) unlinkSync(path)
        } catch {
          // already gone
        }
      }
    }
    const seen = readFileSafe(path)
    const owner = Number.parseInt(seen, 10)
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new DataDirLockedError(dataDir, owner)
    }
    // Gone already, or stale (a dead pid, ours from a previous life, or
    // unreadable): remove it, but only while holding the break lock, and only
    // if it still holds what was judged stale.
    if (seen === '' && !existsSafe(path)) continue
    if (!breakStale(dataDir, path, seen)) pause(10 + attempt * 5)
  }
  throw new Error(`could not take the lock ${path}; remove it if no daemon is running`)
}

/** Writes `content` to a private file of ours, then links it to `path`: false if `path` exists. */
function linkNew(dataDir: string, path: string, content: string): boolean {
  const tmp = join(dataDir, `.${LOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    unlinkSafe(tmp)
  }
}

/**
 * Removes the lock at `path` if it still reads `seen`, holding the break lock
 * meanwhile. False when another starter holds the break lock (wait, then look again).
 */
function breakStale(dataDir: string, path: string, seen: string): boolean {
  const breakPath = join(dataDir, BREAK_FILE)
  if (!linkNew(dataDir, breakPath, String(process.pid))) {
    // A break lock that old was left by a starter that died while breaking.
    const age = ageMs(breakPath)
    if (age !== null && age > BREAK_STALE_MS) unlinkSafe(breakPath)
    return false
  }
  try {
    if (readFileSafe(path) === seen) unlinkSafe(path)
  } finally {
    unlinkSafe(breakPath)
  }
  return true
}

/** Blocks this thread for `ms` (the lock is taken once, at start, before anything else runs). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return ''
  }
}

function existsSafe(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

function ageMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return null
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
