// One run of `bulwark daemon` as a child: spawned, its ready line awaited,
// its output turned into log lines, ended on request. Restarts, attaching and
// health belong to the supervisor (supervisor.ts); this is a single life.
//
// Two ways to run it. In the foreground (the default) its stdin is our pipe
// and it runs with --shutdown-on-stdin: when the app goes, however it goes
// (quit, crash, kill -9), the pipe closes and the daemon stops, so no orphan
// is left. In the background (the person chose "keep backups running in the
// background") it must outlive the app: detached, in its own process group,
// stdin not ours and no --shutdown-on-stdin. Either way its log goes to a
// file in the data directory (daemon.log), followed from here: a pipe would
// break (EPIPE) once the app is gone, and the daemon would crash on its next
// log line instead of stopping cleanly.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { DAEMON_LOG, closeQuietly, openDaemonLog } from './daemon-files'
import type { LogLine } from './log-ring'
import { LogTail } from './log-tail'

export interface DaemonCommand {
  /** The program and its leading arguments up to and including `daemon`, e.g. [node, bin/bulwark.js, 'daemon']. */
  command: string[]
  env?: NodeJS.ProcessEnv
}

export interface ReadyMessage {
  url: string
  pid: number
  version: string
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** One line saying how it ended, with its last log line when it had one. */
  reason: string
}

/** The daemon's one-line ready message ({"ready":true,"url":...}); null for any other line. */
export function parseReady(line: string): ReadyMessage | null {
  if (!line.startsWith('{')) return null
  try {
    const msg = JSON.parse(line) as {
      ready?: unknown
      url?: unknown
      pid?: unknown
      version?: unknown
    }
    if (msg.ready !== true || typeof msg.url !== 'string' || typeof msg.pid !== 'number')
      return null
    return {
      url: msg.url,
      pid: msg.pid,
      version: typeof msg.version === 'string' ? msg.version : '',
    }
  } catch {
    return null
  }
}

export class DaemonProcess {
  readonly child: ChildProcess
  /** Resolves with the ready message; rejects if it exits or times out first. */
  readonly ready: Promise<ReadyMessage>
  readonly exited: Promise<Exit>
  private tail: LogTail | undefined
  private lastLine = ''
  private isReady = false

  constructor(
    cmd: DaemonCommand,
    readonly dataDir: string,
    readonly background: boolean,
    readyTimeoutMs: number,
    private readonly onLine: (line: LogLine) => void,
  ) {
    const [program, ...lead] = cmd.command
    if (!program) throw new Error('no command to run the daemon with')
    const args = [...lead, '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--ready-json']
    let resolveReady!: (m: ReadyMessage) => void
    let rejectReady!: (e: Error) => void
    this.ready = new Promise((res, rej) => ((resolveReady = res), (rejectReady = rej)))
    this.ready.catch(() => undefined) // observed by the supervisor; never unhandled
    const handle = (source: 'stdout' | 'stderr', text: string) => {
      if (!this.isReady) {
        const ready = parseReady(text)
        if (ready) {
          // Not logged: the line carries a one-time sign-in code.
          this.isReady = true
          resolveReady(ready)
          return
        }
      }
      if (text.trim() && source === 'stderr') this.lastLine = text
      this.onLine({ at: Date.now(), source, text })
    }
    // Its log (stderr) goes to a file, followed from here: a pipe would break
    // (EPIPE, and a crash instead of a clean stop) as soon as the app is gone.
    const fd = openDaemonLog(dataDir)
    const path = join(dataDir, DAEMON_LOG)
    const offset = LogTail.sizeOf(path)
    try {
      this.child = background
        ? spawn(program, args, {
            env: cmd.env ?? process.env,
            stdio: ['ignore', fd, fd],
            detached: true,
            windowsHide: true,
          })
        : spawn(program, [...args, '--shutdown-on-stdin'], {
            env: cmd.env ?? process.env,
            stdio: ['pipe', 'pipe', fd],
            windowsHide: true,
          })
    } finally {
      closeQuietly(fd) // the child has its own copy
    }
    // In the background, stdout shares the file, and the ready line comes from there.
    this.tail = new LogTail(path, offset, (l) => handle('stderr', l)).start()
    if (background) {
      this.child.unref()
    } else {
      // A daemon that exits first makes writes to its stdin fail; that is not our error.
      this.child.stdin?.on('error', () => undefined)
      createInterface({ input: this.child.stdout! }).on('line', (l) => handle('stdout', l))
    }
    const timer = setTimeout(() => {
      if (this.isReady) return
      rejectReady(
        new Error(`the daemon was not ready within ${Math.round(readyTimeoutMs / 1000)} s`),
      )
      this.child.kill('SIGKILL')
    }, readyTimeoutMs)
    this.exited = new Promise<Exit>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
        clearTimeout(timer)
        this.tail?.readNew()
        this.tail?.stop()
        const how = err
          ? `could not be started (${err.message})`
          : signal
            ? `was killed (${signal})`
            : `exited with code ${code}`
        const reason = `the daemon ${how}${this.lastLine ? `: ${this.lastLine}` : ''}`
        if (!this.isReady) rejectReady(new Error(reason))
        resolve({ code, signal, reason })
      }
      this.child.once('exit', (code, signal) => done(code, signal))
      // Spawning itself failed (no such program): there will be no exit event.
      this.child.on('error', (err) => {
        if (this.child.pid === undefined) done(null, null, err)
      })
    })
  }

  get running(): boolean {
    return (
      this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined
    )
  }

  /**
   * Ends it: a foreground daemon by closing its stdin (its own clean
   * shutdown), a background one by SIGTERM; then SIGTERM again, then SIGKILL,
   * each after `graceMs` without an exit.
   */
  async terminate(graceMs: number): Promise<Exit> {
    if (this.running) {
      if (!this.background && this.child.stdin && !this.child.stdin.destroyed)
        this.child.stdin.end()
      else this.child.kill('SIGTERM')
      if (!(await settlesWithin(this.exited, graceMs))) {
        this.child.kill('SIGTERM')
        if (!(await settlesWithin(this.exited, graceMs))) this.child.kill('SIGKILL')
      }
    }
    return this.exited
  }

  /** Stops following it without ending it (a background daemon the app leaves running). */
  release(): void {
    this.tail?.stop()
    this.child.removeAllListeners()
    this.child.on('error', () => undefined)
    this.child.unref()
  }
}

export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))
  try {
    return await Promise.race([p.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
