// Preload: exposes named functions only, never ipcRenderer itself; each maps
// to one handler in index.ts.
import { contextBridge, ipcRenderer } from 'electron'

export interface AppInfo {
  app: string
  electron: string
  /** The daemon's version; null while it is not running. */
  daemon: string | null
}

contextBridge.exposeInMainWorld('bulwark', {
  platform: process.platform,
  /** Opens the window with the daemon's recent log lines. */
  openLogs: (): Promise<void> => ipcRenderer.invoke('bulwark:open-logs'),
  /** Versions for the About page. */
  appInfo: (): Promise<AppInfo> => ipcRenderer.invoke('bulwark:app-info'),
})
