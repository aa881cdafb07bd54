// The desktop app's behaviour, without Electron: it wires the supervisor, the
// daemon feed, the tray model and the settings, and drives a Shell, the few
// things only Electron can do (tray, notifications, windows, dialogs), which
// index.ts implements. Everything here runs under plain Node in tests.
import { CliShimError, installShim, shimPlan, type ShimInput } from './cli-shim'
import { DaemonFeed } from './daemon-feed'
import { pauseAll, pauseIsOver, resumeAll } from './pause-all'
import type { SettingsStore } from './settings'
import type { StateChange, Supervisor } from './supervisor'
import { notificationFor, type DesktopNotification } from './notification-rules'
import { trayView, type OpenTarget, type TrayAction, type TrayView } from './tray-model'

export interface Shell {
  showTray(view: TrayView): void
  notify(n: DesktopNotification, onClick: () => void): void
  /** Opens (or focuses) the main window on this URL. */
  openWindow(url: string): void
  /** Reloads the open window on this URL; nothing when no window is open. */
  reloadWindow(url: string): void
  showLogs(text: string): void
  /** A message box: what an action the person asked for did, or why it did not. */
  showMessage(m: ShellMessage): void
  /** Whether backups keep running after quitting (null: do not quit). */
  askKeepRunning(current: boolean): Promise<boolean | null>
  setLaunchAtLogin(on: boolean): void
  exit(): void
}

export interface ShellMessage {
  kind: 'info' | 'error'
  title: string
  detail: string
}

export interface AppOptions {
  now?: () => number
  /** The app's binary and bundled CLI, for "Install command-line tool". */
  cli?: ShimInput
}

export class AppController {
  readonly feed = new DaemonFeed()
  private pauseTimer: NodeJS.Timeout | undefined
  private lastUrl: string | null = null
  private answering = true
  private route = '/'
  private readonly now: () => number

  constructor(
    private readonly supervisor: Supervisor,
    private readonly settings: SettingsStore,
    private readonly shell: Shell,
    private readonly options: AppOptions = {},
  ) {
    this.now = options.now ?? Date.now
  }

  async start(): Promise<void> {
    this.supervisor.on('state', (s) => void this.onState(s))
    this.supervisor.on('health', (h) => {
      if (h.ok === this.answering) return
      this.answering = h.ok
      this.redraw()
    })
    this.feed.on('change', () => this.redraw())
    this.feed.on('happening', (h) => this.notify(notificationFor(h, this.level())))
    this.feed.on('problem', (line) =>
      this.supervisor.logs.push({ at: this.now(), source: 'supervisor', text: line }),
    )
    this.pauseTimer = setInterval(() => void this.endPauseIfDue(), 30_000)
    this.pauseTimer.unref()
    this.redraw()
    await this.supervisor.start()
  }

  /** The machine woke up: the event stream may be dead; the daemon catches up schedules itself. */
  async resumed(): Promise<void> {
    const client = this.supervisor.client()
    if (client) await this.feed.connect(client).catch(() => undefined)
    await this.endPauseIfDue()
  }

  /** Opens the UI on `path`, signed in with a fresh one-time link (the window never sees the token). */
  async open(target: OpenTarget): Promise<void> {
    if (target.kind === 'logs') {
      this.shell.showLogs(this.logText())
      return
    }
    this.route = target.path
    const url = await this.signInUrl(target.path)
    if (url) this.shell.openWindow(url)
  }

  async dispatch(action: TrayAction): Promise<void> {
    const client = this.supervisor.client()
    switch (action.type) {
      case 'open':
        return this.open(action.target)
      case 'run-job':
        if (client) await client.runJob(action.job, { owner: 'desktop' })
        return
      case 'pause-all':
        if (client)
          this.settings.update({ pause: await pauseAll(client, action.hours, this.now()) })
        return this.redraw()
      case 'resume-all': {
        const pause = this.settings.get().pause
        if (client && pause) await resumeAll(client, pause)
        this.settings.update({ pause: null })
        return this.redraw()
      }
      case 'notifications':
        this.settings.update({ notifications: action.level })
        return this.redraw()
      case 'launch-at-login':
        this.settings.update({ launchAtLogin: action.on })
        this.shell.setLaunchAtLogin(action.on)
        return this.redraw()
      case 'background':
        this.settings.update({ background: action.on })
        this.supervisor.setBackground(action.on)
        return this.redraw()
      case 'install-cli':
        return this.installCli()
      case 'quit':
        return this.quit()
    }
  }

  /** Puts the `bulwark` command on the PATH, and says where or why not. */
  installCli(): void {
    try {
      if (!this.options.cli) throw new CliShimError('This build of the app has no CLI to install.')
      const done = installShim(shimPlan(this.options.cli))
      this.shell.showMessage({
        kind: 'info',
        title: done.replaced ? 'Command-line tool updated' : 'Command-line tool installed',
        detail: done.message,
      })
    } catch (err) {
      const detail =
        err instanceof CliShimError
          ? err.message
          : `Could not install the bulwark command: ${(err as Error).message}`
      this.shell.showMessage({ kind: 'error', title: 'Command-line tool not installed', detail })
    }
  }

  /** Asks whether backups keep running, then detaches or stops the daemon, then exits. */
  async quit(): Promise<void> {
    const keep = await this.shell.askKeepRunning(this.settings.get().background)
    if (keep === null) return
    this.settings.update({ background: keep, askedAboutBackground: true })
    clearInterval(this.pauseTimer)
    this.feed.disconnect()
    if (keep) await this.supervisor.detach()
    else await this.supervisor.stop()
    this.shell.exit()
  }

  private async onState(s: StateChange): Promise<void> {
    this.redraw()
    if (s.state === 'failing') {
      this.notify(
        notificationFor({ kind: 'daemon-failing', reason: s.reason ?? 'unknown' }, this.level()),
      )
    }
    if (s.state !== 'ready' || !s.connection) {
      this.feed.disconnect() // until it is back: no reconnecting to an address nobody listens on
      return
    }
    this.answering = true
    const client = this.supervisor.client()!
    await this.feed.connect(client).catch(() => undefined)
    // A restarted daemon listens on a new port: an open window signs in there again.
    if (this.lastUrl !== null && this.lastUrl !== s.connection.url) {
      const url = await this.signInUrl(this.route)
      if (url) this.shell.reloadWindow(url)
    }
    this.lastUrl = s.connection.url
  }

  private async signInUrl(path: string): Promise<string | null> {
    const client = this.supervisor.client()
    if (!client) return null
    const link = await client.signInLink()
    return `${link.url}&next=${encodeURIComponent(path)}`
  }

  private async endPauseIfDue(): Promise<void> {
    const pause = this.settings.get().pause
    const client = this.supervisor.client()
    if (!client || !pauseIsOver(pause, this.now())) return
    await resumeAll(client, pause!)
    this.settings.update({ pause: null })
    this.redraw()
  }

  private notify(n: DesktopNotification | null): void {
    if (n) this.shell.notify(n, () => void this.open(n.open))
  }

  private level() {
    return this.settings.get().notifications
  }

  private redraw(): void {
    const s = this.settings.get()
    this.shell.showTray(
      trayView({
        daemon: this.supervisor.state.state,
        answering: this.answering,
        jobs: this.feed.jobs,
        running: this.feed.running.size,
        health: [...this.feed.health.values()],
        pause: s.pause,
        notifications: s.notifications,
        launchAtLogin: s.launchAtLogin,
        background: s.background,
        now: this.now(),
      }),
    )
  }

  private logText(): string {
    return this.supervisor.logs
      .snapshot()
      .map((l) => `${new Date(l.at).toISOString()} [${l.source}] ${l.text}`)
      .join('\n')
  }
}
