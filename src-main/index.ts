// Electron main process: the thin adapter, and the only code that imports
// electron (so the only code no test runs). The behaviour lives in plain
// modules tested under Node: supervisor.ts (the daemon child), tray-model.ts
// (icon, menu, notification rules), app-controller.ts (the wiring), settings.ts.
//
// Sleep: on powerMonitor 'resume' the app only renews its event stream. The
// daemon slept too, and catches up the schedules missed meanwhile on its own,
// from the jump of its clock between two turns of its scheduler
// (src-daemon/scheduler/loop.ts); headless servers get the same.
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  powerMonitor,
  shell,
} from 'electron'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { resolveDataDir } from '../src-daemon/client/data-dir'
import { AppController, type Shell } from './app-controller'
import { daemonCommand } from './daemon-command'
import { menuTemplate } from './electron-menu'
import { SettingsStore } from './settings'
import { Supervisor } from './supervisor'
import { TRAY_ICON_SIZE, trayBitmap } from './tray-icons'
import type { TrayIcon } from './tray-model'

if (!app.requestSingleInstanceLock()) app.exit(0)
else main()

function main(): void {
  const settings = new SettingsStore(join(app.getPath('userData'), 'settings.json'))
  const supervisor = new Supervisor({
    dataDir: resolveDataDir(undefined),
    // Packaged: this binary as plain Node; in development: Node itself (daemon-command.ts says why).
    ...daemonCommand({
      packaged: app.isPackaged,
      execPath: process.execPath,
      daemonEntry: join(__dirname, 'daemon.js'),
      env: process.env,
    }),
    background: settings.get().background,
  })
  let win: BrowserWindow | null = null
  let tray: Tray | null = null
  const shown = new Set<Notification>() // referenced until closed, or a click may never arrive
  const icon = (state: TrayIcon) =>
    nativeImage
      .createFromBitmap(trayBitmap(state), { width: TRAY_ICON_SIZE, height: TRAY_ICON_SIZE })
      .resize({ width: 16, height: 16 })
  const external = (url: string) => {
    if (/^(https?|mailto):/i.test(url)) void shell.openExternal(url)
  }
  const openWindow = (url: string) => {
    if (win) {
      void win.loadURL(url)
      return win.show()
    }
    const b = settings.get().window
    win = new BrowserWindow({
      ...{ width: 1280, height: 800, ...b },
      webPreferences: {
        preload: join(__dirname, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
      },
    })
    if (b?.maximized) win.maximize()
    win.webContents.setWindowOpenHandler(({ url: to }) => (external(to), { action: 'deny' }))
    win.webContents.on('will-navigate', (e, to) => {
      // The daemon's own pages stay (its port changes when it restarts); the rest is external.
      const daemon = supervisor.state.connection?.url
      if (daemon && new URL(to).origin === new URL(daemon).origin) return
      e.preventDefault()
      external(to)
    })
    const save = () =>
      win && settings.update({ window: { ...win.getNormalBounds(), maximized: win.isMaximized() } })
    win.on('resized', save)
    win.on('moved', save)
    win.on('close', save)
    win.on('closed', () => (win = null))
    void win.loadURL(url)
  }
  const electronShell: Shell = {
    showTray(view) {
      tray ??= new Tray(icon(view.icon))
      tray.setImage(icon(view.icon))
      tray.setToolTip(view.tooltip)
      tray.setContextMenu(
        Menu.buildFromTemplate(menuTemplate(view.menu, (a) => void controller.dispatch(a))),
      )
    },
    notify(n, onClick) {
      if (!Notification.isSupported()) return
      const note = new Notification({ title: n.title, body: n.body })
      shown.add(note)
      note.on('click', onClick)
      note.on('close', () => shown.delete(note))
      note.show()
    },
    openWindow,
    reloadWindow: (url) => void win?.loadURL(url),
    showLogs(text) {
      const logs = new BrowserWindow({ width: 1000, height: 640, title: 'Bulwark logs' })
      void logs.loadURL(`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`)
    },
    showMessage: (m) =>
      void dialog.showMessageBox({ type: m.kind, message: m.title, detail: m.detail }),
    async askKeepRunning(current) {
      const { response } = await dialog.showMessageBox({
        type: 'question',
        message: 'Keep backups running in the background?',
        detail:
          'Scheduled backups run only while Bulwark runs. In the background they go on after ' +
          'you quit, and the app finds them again when you open it.',
        buttons: ['Keep running', 'Stop backups', 'Cancel'],
        defaultId: current ? 0 : 1,
        cancelId: 2,
      })
      return response === 2 ? null : response === 0
    },
    setLaunchAtLogin: (on) => app.setLoginItemSettings({ openAtLogin: on }),
    exit: () => app.exit(0),
  }
  const controller = new AppController(supervisor, settings, electronShell, {
    cli: {
      platform: process.platform,
      execPath: process.execPath,
      cliPath: join(__dirname, 'cli.js'),
      home: homedir(),
      env: process.env,
    },
  })
  const home = { kind: 'route', path: '/' } as const
  app.on('second-instance', () => void controller.open(home))
  app.on('window-all-closed', () => undefined) // the app lives on in the tray
  app.on('before-quit', (e) => {
    e.preventDefault() // Cmd+Q and the like quit as the tray's Quit does, asking first
    void controller.quit()
  })
  void app.whenReady().then(async () => {
    ipcMain.handle('bulwark:open-logs', () => controller.open({ kind: 'logs' }))
    ipcMain.handle('bulwark:app-info', () => ({
      app: app.getVersion(),
      electron: process.versions.electron,
      daemon: supervisor.state.connection?.version ?? null,
    }))
    powerMonitor.on('resume', () => void controller.resumed())
    app.setLoginItemSettings({ openAtLogin: settings.get().launchAtLogin })
    await controller.start()
    if (!app.getLoginItemSettings().wasOpenedAtLogin) await controller.open(home)
  })
}
