// Over ~300 lines on purpose: one state machine (start, attach, watch, restart, fail) whose transitions share its state.
// Keeps one Bulwark daemon running for the desktop app: attaches to the one
// already running on the data directory (daemon.json + token; daemon-attach.ts), else starts
// one (daemon-process.ts); polls its health through the API client; restarts
// it with exponential backoff when it dies, and says 'failing' when it keeps
// dying; keeps its recent output for a logs view. Plain Node, no electron:
// the app's adapter (index.ts) turns the events into a tray, notifications
// and a window, and tests run it against the real daemon.
//
// The API token is read here from the 0600 token file and handed to the
// adapter in memory: it is never on a command line nor in a log line.
import { EventEmitter } from 'node:events'
import { BulwarkClient } from '../src-daemon/client'
import { Backoff, formatDelay } from './backoff'
import { attachToRunning, terminatePid } from './daemon-attach'
import {
  forgetBackgroundDaemon,
  isAlive,
  isOurBackgroundDaemon,
  markBackgroundDaemon,
  readToken,
} from './daemon-files'
import { DaemonProcess, settlesWithin } from './daemon-process'
import { LogRing, type LogLine } from './log-ring'
import type { LogTail } from './log-tail'
import type {
  DaemonConnection,
  HealthCheck,
  StateChange,
  SupervisorOptions,
} from './supervisor-types'

export type {
  DaemonConnection,
  HealthCheck,
  StateChange,
  SupervisorOptions,
  SupervisorState,
} from './supervisor-types'

interface Events {
  state: [StateChange]
  log: [LogLine]
  health: [HealthCheck]
}

export class Supervisor extends EventEmitter<Events> {
  readonly logs: LogRing
  private current: StateChange = { state: 'stopped', connection: null, restarts: 0, at: 0 }
  private proc: DaemonProcess | undefined
  private tail: LogTail | undefined
  private backoff: Backoff
  private background: boolean
  private running = false
  private upSince: number | null = null
  private failedChecks = 0
  private healthTimer: NodeJS.Timeout | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private generation = 0

  constructor(private readonly opts: SupervisorOptions) {
    super()
    this.logs = new LogRing(opts.logLines ?? 500)
    this.backoff = new Backoff(opts.backoff)
    this.background = opts.background ?? false
  }

  get state(): StateChange {
    return this.current
  }

  /** Whether a daemon started from now on outlives the app. */
  setBackground(on: boolean): void {
    this.background = on
  }

  /** Attaches to the running daemon or starts one; resolves once it is ready. */
  async start(): Promise<DaemonConnection> {
    if (!this.running) {
      this.running = true
      this.setState({ state: 'starting', connection: null })
      void this.launch()
    }
    return this.ready()
  }

  /** The connection once ready (now or next); rejects if the supervisor stops first. */
  ready(): Promise<DaemonConnection> {
    if (this.current.state === 'ready' && this.current.connection) {
      return Promise.resolve(this.current.connection)
    }
    return new Promise((resolve, reject) => {
      const on = (s: StateChange) => {
        if (s.state === 'ready' && s.connection) resolve(s.connection)
        else if (s.state === 'stopped') reject(new Error(s.reason ?? 'the supervisor stopped'))
        else return
        this.off('state', on)
      }
      this.on('state', on)
    })
  }

  /** An API client for the daemon as it is now (its address changes on restart). */
  client(): BulwarkClient | null {
    const c = this.current.connection
    return c ? new BulwarkClient({ url: c.url, token: c.token }) : null
  }

  /**
   * Ends the daemon and leaves no process behind. A daemon the supervisor
   * found running is stopped only if the app started it (in the background);
   * one started otherwise (a service, a terminal) is left alone.
   */
  async stop(): Promise<void> {
    const conn = this.current.connection
    this.halt()
    let reason = 'stopped'
    if (this.proc) {
      await this.proc.terminate(this.opts.stopGraceMs ?? 15_000)
      if (this.proc.background) forgetBackgroundDaemon(this.opts.dataDir)
    } else if (conn?.attached && isAlive(conn.pid)) {
      if (isOurBackgroundDaemon(this.opts.dataDir, conn.pid)) {
        await terminatePid(conn.pid, this.opts.stopGraceMs ?? 15_000)
        forgetBackgroundDaemon(this.opts.dataDir)
      } else {
        reason = `left the daemon (pid ${conn.pid}) running: the app did not start it`
        this.say(reason)
      }
    }
    this.proc = undefined
    this.setState({ state: 'stopped', connection: null, reason })
  }

  /**
   * Quits while the daemon keeps running (background mode). A daemon running
   * in the foreground is tied to the app's life, so it is first replaced by a
   * background one (briefly stopping it); the next start attaches to that.
   */
  async detach(): Promise<DaemonConnection | null> {
    this.background = true
    if (this.proc && !this.proc.background) {
      this.halt()
      this.say('moving the daemon to the background')
      await this.proc.terminate(this.opts.stopGraceMs ?? 15_000)
      this.proc = undefined
      this.running = true
      this.setState({ state: 'starting', connection: null, reason: 'moving to the background' })
      void this.launch()
      const ready = this.ready().catch(() => undefined)
      if (!(await settlesWithin(ready, this.opts.readyTimeoutMs ?? 60_000))) {
        // It does not come up in the background: quit leaves nothing rather than a daemon in a restart loop.
        await this.stop()
        return null
      }
    }
    const conn = this.current.connection
    this.halt()
    this.proc?.release()
    this.proc = undefined
    this.setState({
      state: 'stopped',
      connection: null,
      reason: conn ? `left the daemon (pid ${conn.pid}) running in the background` : 'stopped',
    })
    return conn
  }

  /** Stops every timer and follower; the daemon itself is left as it is. */
  private halt(): void {
    this.running = false
    this.generation++
    clearTimeout(this.healthTimer)
    clearTimeout(this.restartTimer)
    this.tail?.stop()
    this.tail = undefined
  }

  private async launch(): Promise<void> {
    const gen = this.generation
    const attached = await attachToRunning(
      this.opts.dataDir,
      (text) => this.say(text),
      (line) => this.record(line),
    )
    if (gen !== this.generation) {
      attached?.tail?.stop()
      return
    }
    if (attached) {
      this.tail = attached.tail
      this.becomeReady(attached.connection, gen)
      return
    }
    let proc: DaemonProcess
    try {
      proc = new DaemonProcess(
        this.opts,
        this.opts.dataDir,
        this.background,
        this.opts.readyTimeoutMs ?? 60_000,
        (l) => this.record(l),
      )
    } catch (err) {
      this.died(`the daemon could not be started: ${(err as Error).message}`, gen)
      return
    }
    this.proc = proc
    void proc.exited.then((exit) => {
      if (this.proc === proc && gen === this.generation) this.died(exit.reason, gen)
    })
    let ready
    try {
      ready = await proc.ready
    } catch {
      return // its exit (which follows) is the death that counts
    }
    if (gen !== this.generation) return
    let token: string
    try {
      token = readToken(this.opts.dataDir)
    } catch (err) {
      this.say((err as Error).message)
      proc.child.kill('SIGKILL')
      return
    }
    if (proc.background) markBackgroundDaemon(this.opts.dataDir, ready.pid)
    this.becomeReady({ ...ready, token, attached: false, background: proc.background }, gen)
  }

  private becomeReady(conn: DaemonConnection, gen: number): void {
    this.upSince = Date.now()
    this.failedChecks = 0
    this.setState({ state: 'ready', connection: conn })
    this.scheduleHealth(gen)
  }

  private scheduleHealth(gen: number): void {
    this.healthTimer = setTimeout(() => void this.checkHealth(gen), this.opts.healthMs ?? 5000)
  }

  private async checkHealth(gen: number): Promise<void> {
    const conn = this.current.connection
    if (!conn || gen !== this.generation) return
    const client = new BulwarkClient({
      url: conn.url,
      token: conn.token,
      timeoutMs: this.opts.healthTimeoutMs ?? 5000,
    })
    let check: HealthCheck
    try {
      await client.status()
      check = { ok: true, at: Date.now() }
    } catch (err) {
      check = { ok: false, at: Date.now(), error: (err as Error).message }
    }
    if (gen !== this.generation) return
    this.emit('health', check)
    this.failedChecks = check.ok ? 0 : this.failedChecks + 1
    if (!check.ok && conn.attached && !isAlive(conn.pid)) {
      this.died(`the daemon (pid ${conn.pid}) is gone`, gen)
      return
    }
    if (this.proc && this.failedChecks >= (this.opts.hungAfter ?? 3)) {
      this.say(
        `the daemon has not answered ${this.failedChecks} checks in a row (${check.error}); killing it`,
      )
      this.proc.child.kill('SIGKILL') // its exit is the death that restarts it
      return
    }
    this.scheduleHealth(gen)
  }

  private died(reason: string, gen: number): void {
    if (gen !== this.generation || !this.running) return
    clearTimeout(this.healthTimer)
    this.tail?.stop()
    this.tail = undefined
    this.proc = undefined
    const { delayMs, failing } = this.backoff.died(Date.now(), this.upSince)
    this.upSince = null
    const restarts = this.current.restarts + 1
    this.say(`${reason}; starting it again in ${formatDelay(delayMs)}`)
    this.setState({
      state: failing ? 'failing' : 'restarting',
      connection: null,
      restarts,
      delayMs,
      reason: failing
        ? `${reason} (it died ${this.backoff.recentDeaths} times in ${formatDelay(this.backoff.failWindowMs)})`
        : reason,
    })
    this.restartTimer = setTimeout(() => {
      if (gen === this.generation) void this.launch()
    }, delayMs)
  }

  private setState(s: Omit<StateChange, 'restarts' | 'at'> & { restarts?: number }): void {
    this.current = { restarts: this.current.restarts, ...s, at: Date.now() }
    this.emit('state', this.current)
  }

  private record(line: LogLine): void {
    this.logs.push(line)
    this.emit('log', line)
  }

  /** The supervisor's own words, in the same log as the daemon's. */
  private say(text: string): void {
    this.record({ at: Date.now(), source: 'supervisor', text })
  }
}
