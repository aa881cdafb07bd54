// The daemon already running on the data directory (daemon.json), for the
// supervisor to attach to rather than start another: it must be alive and
// answer with the token; a background one's log file is followed. And the
// stop of such a daemon, which is not the app's child.
import { join } from 'node:path'
import { BulwarkClient } from '../src-daemon/client'
import {
  DAEMON_LOG,
  isAlive,
  isOurBackgroundDaemon,
  readDaemonFile,
  readToken,
} from './daemon-files'
import { settlesWithin } from './daemon-process'
import type { LogLine } from './log-ring'
import { LogTail } from './log-tail'
import type { DaemonConnection } from './supervisor-types'

/**
 * The daemon already running on the data directory, if it answers with its
 * token (and, when it runs in the background, a tail following its log
 * into `record`). `say` is told why not.
 */
export async function attachToRunning(
  dataDir: string,
  say: (text: string) => void,
  record: (line: LogLine) => void,
): Promise<{ connection: DaemonConnection; tail?: LogTail } | null> {
  const file = readDaemonFile(dataDir)
  if (!file || !isAlive(file.pid)) return null
  let token: string
  try {
    token = readToken(dataDir)
  } catch (err) {
    say(`cannot attach to the running daemon (pid ${file.pid}): ${(err as Error).message}`)
    return null
  }
  try {
    await new BulwarkClient({ url: file.url, token, timeoutMs: 5000 }).status()
  } catch (err) {
    say(`the daemon in daemon.json (pid ${file.pid}) does not answer: ${(err as Error).message}`)
    return null
  }
  const background = isOurBackgroundDaemon(dataDir, file.pid)
  let tail: LogTail | undefined
  if (background) {
    // Its output goes to its log file: show the end of it, then follow it.
    const path = join(dataDir, DAEMON_LOG)
    const from = Math.max(0, LogTail.sizeOf(path) - 64 * 1024)
    let first = from > 0 // the first line read mid-file is a fragment
    tail = new LogTail(path, from, (text) => {
      if (first) return void (first = false)
      record({ at: Date.now(), source: 'stderr', text })
    }).start()
  }
  say(`attached to the daemon already running (pid ${file.pid}) at ${file.url}`)
  const connection = {
    url: file.url,
    token,
    pid: file.pid,
    version: file.version,
    attached: true,
    background,
  }
  return { connection, tail }
}

/** SIGTERM, then SIGKILL after `graceMs`, for a daemon that is not our child. */
export async function terminatePid(pid: number, graceMs: number): Promise<void> {
  const gone = (ms: number) =>
    settlesWithin(
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (!isAlive(pid)) {
            clearInterval(poll)
            resolve()
          }
        }, 50)
        setTimeout(() => clearInterval(poll), ms + 100)
      }),
      ms,
    )
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return // already gone
  }
  if (await gone(graceMs)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  await gone(graceMs)
}
