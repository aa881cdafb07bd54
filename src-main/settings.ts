// The desktop app's own settings (not the daemon's): window bounds, background
// mode, which notifications to show, launch at login, and the schedules the
// tray paused. One JSON file in the app's config directory, written whole to
// a temporary file and renamed over the old one, so a crash mid-write leaves
// the previous settings rather than half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export type NotificationLevel = 'all' | 'failures' | 'off'

export interface WindowBounds {
  x?: number
  y?: number
  width: number
  height: number
  maximized?: boolean
}

/** Jobs the tray paused with "Pause all schedules", to unpause exactly those later. */
export interface PauseAll {
  jobs: string[]
  /** When to resume (ms since the epoch); null: until resumed by hand. */
  until: number | null
}

export interface AppSettings {
  window: WindowBounds | null
  /** Keep backups running in the background when the app quits. */
  background: boolean
  /** Asked on the first quit; after that, background mode says what quitting does. */
  askedAboutBackground: boolean
  notifications: NotificationLevel
  launchAtLogin: boolean
  pause: PauseAll | null
}

export const DEFAULT_SETTINGS: AppSettings = {
  window: null,
  background: false,
  askedAboutBackground: false,
  notifications: 'failures',
  launchAtLogin: false,
  pause: null,
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** Whatever the file holds, reduced to valid settings: a bad value falls back to its default. */
export function sanitize(raw: unknown): AppSettings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const w = r.window as Record<string, unknown> | null | undefined
  const window: WindowBounds | null =
    w && isNum(w.width) && isNum(w.height) && w.width >= 200 && w.height >= 150
      ? {
          width: w.width,
          height: w.height,
          ...(isNum(w.x) && isNum(w.y) ? { x: w.x, y: w.y } : {}),
          ...(w.maximized === true ? { maximized: true } : {}),
        }
      : null
  const p = r.pause as Record<string, unknown> | null | undefined
  const pause: PauseAll | null =
    p && Array.isArray(p.jobs) && p.jobs.every((j) => typeof j === 'string')
      ? { jobs: p.jobs as string[], until: isNum(p.until) ? p.until : null }
      : null
  return {
    window,
    background: r.background === true,
    askedAboutBackground: r.askedAboutBackground === true,
    notifications:
      r.notifications === 'all' || r.notifications === 'off' ? r.notifications : 'failures',
    launchAtLogin: r.launchAtLogin === true,
    pause,
  }
}

export class SettingsStore {
  private current: AppSettings

  /** Reads `path` (missing or unreadable: the defaults; the file is written on the first change). */
  constructor(readonly path: string) {
    let raw: unknown = {}
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      // first run, or a damaged file: start from the defaults
    }
    this.current = sanitize(raw)
  }

  get(): AppSettings {
    return structuredClone(this.current)
  }

  /** Applies a change and writes the file at once; returns the new settings. */
  update(patch: Partial<AppSettings>): AppSettings {
    this.current = sanitize({ ...this.current, ...patch })
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.current, null, 2) + '\n', { mode: 0o600 })
    renameSync(tmp, this.path)
    return this.get()
  }
}
