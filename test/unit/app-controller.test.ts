// The desktop app's wiring (src-main/app-controller.ts) with a real daemon
// and a recording Shell in place of Electron: the window opens on a one-time
// sign-in link that really signs in, a failed backup becomes a notification
// whose click opens its task, "pause all" is kept in the settings file,
// a daemon that keeps dying is told, and quitting stops or detaches the daemon.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BulwarkClient } from '../../src-daemon/client'
import { AppController, type Shell, type ShellMessage } from '../../src-main/app-controller'
import { isAlive } from '../../src-main/daemon-files'
import { SettingsStore } from '../../src-main/settings'
import { Supervisor } from '../../src-main/supervisor'
import type { DesktopNotification } from '../../src-main/notification-rules'
import type { TrayView } from '../../src-main/tray-model'
import { BULWARK_BIN, ROOT, tempDir } from '../helpers/daemon'

class RecordingShell implements Shell {
  trays: TrayView[] = []
  notes: { n: DesktopNotification; click: () => void }[] = []
  windows: string[] = []
  logs: string[] = []
  keepRunning: boolean | null = false
  exited = false
  loginItem: boolean | null = null
  private waiters: (() => void)[] = []
  showTray = (v: TrayView) => this.record(() => this.trays.push(v))
  notify = (n: DesktopNotification, click: () => void) =>
    this.record(() => this.notes.push({ n, click }))
  openWindow = (url: string) => this.record(() => this.windows.push(url))
  reloadWindow = (url: string) => this.record(() => this.windows.push(url))
  showLogs = (text: string) => this.record(() => this.logs.push(text))
  messages: ShellMessage[] = []
  showMessage = (m: ShellMessage) => this.record(() => this.messages.push(m))
  askKeepRunning = async () => this.keepRunning
  setLaunchAtLogin = (on: boolean) => void (this.loginItem = on)
  exit = () => void (this.exited = true)
  get tray() {
    return this.trays.at(-1)!
  }
  private record(fn: () => void) {
    fn()
    for (const w of this.waiters.splice(0)) w()
  }
  /** Resolves once `pred` holds (checked after each call the controller makes). */
  until(pred: () => boolean, ms = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the shell never got there')), ms)
      const check = () => {
        if (pred()) {
          clearTimeout(timer)
          resolve()
        } else this.waiters.push(check)
      }
      check()
    })
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function app(opts: { dataDir?: string; failLimit?: number; home?: string } = {}) {
  const dataDir = opts.dataDir ?? tempDir()
  const settingsPath = join(tempDir('bulwark-app-config-'), 'settings.json')
  const settings = new SettingsStore(settingsPath)
  const supervisor = new Supervisor({
    dataDir,
    command: [process.execPath, BULWARK_BIN, 'daemon'],
    // No low-space warning on a nearly full test machine: the icons asserted are the jobs' own.
    env: { ...process.env, BULWARK_KEYCHAIN: 'off', BULWARK_LOW_SPACE_BYTES: '0' },
    backoff: { initialMs: 50, maxMs: 200, failLimit: opts.failLimit ?? 5 },
  })
  const shell = new RecordingShell()
  const controller = new AppController(supervisor, settings, shell, {
    cli: {
      platform: process.platform,
      execPath: process.execPath,
      cliPath: join(ROOT, 'out', 'main', 'cli.js'),
      home: opts.home ?? tempDir('bulwark-app-home-'),
    },
  })
  cleanups.push(async () => {
    controller.feed.disconnect()
    await supervisor.stop()
  })
  return { dataDir, settingsPath, settings, supervisor, shell, controller }
}

describe('desktop app controller', () => {
  it('opens the window on a one-time link that signs in and lands on the route asked for', async () => {
    const { supervisor, shell, controller } = app()
    await controller.start()
    await controller.open({ kind: 'route', path: '/tasks' })
    const url = new URL(shell.windows[0]!)
    expect(url.origin).toBe(supervisor.state.connection!.url)
    const query = new URLSearchParams(url.hash.replace(/^#\/signin\?/, ''))
    expect(query.get('next')).toBe('/tasks')
    // The code trades for the token once, as the UI's sign-in page does.
    const client = new BulwarkClient({ url: url.origin })
    expect((await client.signIn(query.get('code')!)).token).toBe(supervisor.state.connection!.token)
    await expect(client.signIn(query.get('code')!)).rejects.toThrow()
    expect(url.href).not.toContain(supervisor.state.connection!.token)
  })

  it('notifies a failed backup, and the click opens its task', async () => {
    const { supervisor, shell, controller } = app()
    await controller.start()
    await shell.until(() => shell.tray.icon === 'ok')
    const c = supervisor.client()!
    const job = await c.createJob({
      name: 'ledger',
      target: (
        await c.createTarget({
          name: 'gone',
          plugin: 'sqlite',
          endpoint: { path: join(tempDir(), 'no.db') },
        })
      ).uuid,
      store: (
        await c.createStore({
          name: 'st',
          plugin: 'fs',
          endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
        })
      ).uuid,
      schedule: (await c.createSchedule({ name: 's', when: 'weekly at 2:30am on sundays' })).uuid,
      retention: (await c.createRetention({ name: 'r', expires: 86400 })).uuid,
    })
    const { task_uuid } = await controller
      .dispatch({ type: 'run-job', job: job.uuid })
      .then(async () => (await c.listTasks({ job: job.uuid }))[0]!)
      .then((t) => ({ task_uuid: t.uuid }))
    await shell.until(() => shell.notes.length > 0 && shell.tray.icon === 'failing')
    expect(shell.notes[0]!.n.title).toBe('Backup of ledger failed')
    shell.notes[0]!.click()
    await shell.until(() => shell.windows.length > 0)
    expect(decodeURIComponent(shell.windows[0]!)).toContain(`next=/tasks/${task_uuid}`)
    expect(shell.tray.menu[0]).toEqual({
      kind: 'label',
      label: 'Bulwark: last backup failed: ledger',
    })
  })

  it('keeps "pause all" in the settings file, and notifications off silence failures', async () => {
    const { supervisor, settingsPath, shell, controller } = app()
    await controller.start()
    const c = supervisor.client()!
    await c.createJob({
      name: 'nightly',
      target: (await c.createTarget({ name: 't', plugin: 'files', endpoint: { path: tempDir() } }))
        .uuid,
      store: (
        await c.createStore({
          name: 'st',
          plugin: 'fs',
          endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
        })
      ).uuid,
      schedule: (await c.createSchedule({ name: 's', when: 'daily at 3am' })).uuid,
      retention: (await c.createRetention({ name: 'r', expires: 86400 })).uuid,
    })
    await controller.dispatch({ type: 'pause-all', hours: null })
    await shell.until(() => shell.tray.icon === 'paused')
    const saved = JSON.parse(readFileSync(settingsPath, 'utf8')) as { pause: unknown }
    expect(saved.pause).toMatchObject({ until: null, jobs: [expect.any(String)] })
    await controller.dispatch({ type: 'resume-all' })
    await shell.until(() => shell.tray.icon === 'ok')

    await controller.dispatch({ type: 'notifications', level: 'off' })
    await controller.dispatch({ type: 'launch-at-login', on: true })
    expect(shell.loginItem).toBe(true)
    expect(JSON.parse(readFileSync(settingsPath, 'utf8'))).toMatchObject({
      notifications: 'off',
      launchAtLogin: true,
      pause: null,
    })
  })

  it('tells the person when the daemon keeps dying, and the click opens the logs', async () => {
    const dataDir = tempDir()
    writeFileSync(join(dataDir, 'daemon.lock'), String(process.pid)) // every start fails
    const { shell, controller } = app({ dataDir, failLimit: 2 })
    void controller.start().catch(() => undefined)
    await shell.until(() => shell.notes.length > 0)
    expect(shell.notes[0]!.n).toMatchObject({
      title: 'Bulwark keeps stopping',
      open: { kind: 'logs' },
    })
    expect(shell.tray.icon).toBe('failing')
    shell.notes[0]!.click()
    await shell.until(() => shell.logs.length > 0)
    expect(shell.logs[0]).toMatch(/another Bulwark daemon \(pid \d+\) is already running/)
  })

  it('installs the command-line tool from the tray, and says why when it cannot', async () => {
    const home = tempDir('bulwark-app-home-')
    const { shell, controller } = app({ home })
    await controller.start()
    const item = shell.tray.menu.find((m) => m.kind === 'action' && m.action.type === 'install-cli')
    expect(item).toMatchObject({ label: 'Install command-line tool…' })
    await controller.dispatch({ type: 'install-cli' })
    const shim = join(home, '.local', 'bin', 'bulwark')
    expect(shell.messages[0]).toMatchObject({
      kind: 'info',
      title: 'Command-line tool installed',
      detail: expect.stringContaining(`Installed the bulwark command as ${shim}`),
    })
    expect(readFileSync(shim, 'utf8')).toContain(join(ROOT, 'out', 'main', 'cli.js'))
    await controller.dispatch({ type: 'install-cli' })
    expect(shell.messages[1]).toMatchObject({ kind: 'info', title: 'Command-line tool updated' })
    writeFileSync(shim, '#!/bin/sh\necho mine\n')
    await controller.dispatch({ type: 'install-cli' })
    expect(shell.messages[2]).toMatchObject({
      kind: 'error',
      title: 'Command-line tool not installed',
      detail: expect.stringContaining('was not written by Bulwark'),
    })
    expect(readFileSync(shim, 'utf8')).toBe('#!/bin/sh\necho mine\n')
  })

  it('quitting stops the daemon, or leaves it running in the background when asked to', async () => {
    const stopping = app()
    await stopping.controller.start()
    const pid = stopping.supervisor.state.connection!.pid
    await stopping.controller.quit()
    expect(stopping.shell.exited).toBe(true)
    expect(isAlive(pid)).toBe(false)

    const keeping = app()
    keeping.shell.keepRunning = true
    await keeping.controller.start()
    await keeping.controller.quit()
    expect(keeping.settings.get()).toMatchObject({ background: true, askedAboutBackground: true })
    const bg = JSON.parse(readFileSync(join(keeping.dataDir, 'daemon.json'), 'utf8')) as {
      pid: number
    }
    cleanups.push(() => void (isAlive(bg.pid) && process.kill(bg.pid, 'SIGTERM')))
    expect(isAlive(bg.pid)).toBe(true)
    // The next launch attaches to it.
    const next = app({ dataDir: keeping.dataDir })
    await next.controller.start()
    expect(next.supervisor.state.connection).toMatchObject({ attached: true, pid: bg.pid })
  })
})
