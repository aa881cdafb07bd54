// Preload: exposes named functions only, never ipcRenderer itself.
import { contextBridge } from 'electron'

contextBridge.exposeInMainWorld('bulwark', {
  platform: process.platform,
})
