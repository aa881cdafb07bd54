// What the desktop app reads and writes in the daemon's data directory: the
// daemon's own daemon.json and token (to attach to one already running), the
// log file the daemons it starts write to (no pipe outlives the app), and a
// marker naming the background daemon the app started, so a later launch
// knows it may stop that one (and leaves a daemon run as a service alone).
import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { DAEMON_FILE, TOKEN_FILE, type DaemonFile } from '../src-daemon/contract'

export const DAEMON_LOG = 'daemon.log'
const BACKGROUND_MARKER = 'desktop-daemon.json'
/** A background log beyond this is rotated (to daemon.log.1) when the next background daemon starts. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024

/** daemon.json, or null when there is none or it cannot be read (a daemon mid-start or gone). */
export function readDaemonFile(dataDir: string): DaemonFile | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, DAEMON_FILE), 'utf8')) as DaemonFile
    return typeof parsed.url === 'string' && Number.isInteger(parsed.pid) ? parsed : null
  } catch {
    return null
  }
}

export class TokenFileError extends Error {}

/**
 * The API token, read from the data directory. Refused when others may read
 * the file: a token anyone on the machine can read is no secret, and the
 * person should fix the permissions rather than have the app carry on.
 */
export function readToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE)
  let mode: number
  let token: string
  try {
    mode = statSync(path).mode
    token = readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new TokenFileError(
      `cannot read the API token ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new TokenFileError(
      `the API token ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    )
  }
  if (!token) throw new TokenFileError(`the API token ${path} is empty`)
  return token
}

/** Whether a process with this pid exists (one we may not signal counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Opens the daemon's log for appending (rotating a big one first); returns its fd. */
export function openDaemonLog(dataDir: string): number {
  const path = join(dataDir, DAEMON_LOG)
  try {
    if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`)
  } catch {
    // no log yet
  }
  return openSync(path, 'a', 0o600)
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // already closed
  }
}

/** Records that the app started the background daemon with this pid. */
export function markBackgroundDaemon(dataDir: string, pid: number): void {
  writeFileSync(join(dataDir, BACKGROUND_MARKER), JSON.stringify({ pid }) + '\n', { mode: 0o600 })
}

/** Whether the daemon with this pid is one the app started in the background. */
export function isOurBackgroundDaemon(dataDir: string, pid: number): boolean {
  try {
    const marker = JSON.parse(readFileSync(join(dataDir, BACKGROUND_MARKER), 'utf8')) as {
      pid?: unknown
    }
    return marker.pid === pid
  } catch {
    return false
  }
}

export function forgetBackgroundDaemon(dataDir: string): void {
  rmSync(join(dataDir, BACKGROUND_MARKER), { force: true })
}
