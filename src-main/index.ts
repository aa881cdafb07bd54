// Electron main process: for now it starts the daemon as a child (never in
// this process), waits for its ready line, and opens a window on its URL.
// The supervisor, tray and notifications come with the desktop issue.
import { app, BrowserWindow } from 'electron'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

async function startDaemonChild(): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'daemon.js'),
      '--listen',
      '127.0.0.1:0',
      '--ready-json',
      '--shutdown-on-stdin',
    ],
    {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  app.on('will-quit', () => child.stdin?.end())
  const lines = createInterface({ input: child.stdout! })
  for await (const line of lines) {
    const msg = JSON.parse(line) as { ready?: boolean; url?: string; signin_url?: string }
    // The one-time sign-in link: the window's UI trades it for the token itself.
    if (msg.ready && msg.url) return msg.signin_url ?? msg.url
  }
  throw new Error('the Bulwark daemon exited before it was ready')
}

app.whenReady().then(async () => {
  const url = await startDaemonChild()
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
    },
  })
  await win.loadURL(url)
})

app.on('window-all-closed', () => app.quit())
