// The desktop app's settings file (src-main/settings.ts): defaults on a first
// run or a damaged file, bad values reduced to their defaults, and writes that
// replace the file whole (never a half-written file, never readable by others).
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, SettingsStore } from '../../src-main/settings'
import { tempDir } from '../helpers/daemon'

describe('desktop settings', () => {
  it('starts from the defaults, and keeps what was changed across restarts', () => {
    const path = join(tempDir(), 'config', 'settings.json')
    const first = new SettingsStore(path)
    expect(first.get()).toEqual(DEFAULT_SETTINGS)
    expect(first.get().notifications).toBe('failures')
    first.update({ background: true, window: { x: 10, y: 20, width: 900, height: 700 } })
    first.update({ notifications: 'all' })
    const again = new SettingsStore(path)
    expect(again.get()).toMatchObject({
      background: true,
      notifications: 'all',
      window: { x: 10, y: 20, width: 900, height: 700 },
    })
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600)
    // Written by rename: no temporary file is left beside it.
    expect(readdirSync(join(path, '..'))).toEqual(['settings.json'])
  })

  it('reads a damaged file or bad values as the defaults', () => {
    const dir = tempDir()
    const path = join(dir, 'settings.json')
    writeFileSync(path, '{"background": tr')
    expect(new SettingsStore(path).get()).toEqual(DEFAULT_SETTINGS)
    writeFileSync(
      path,
      JSON.stringify({
        notifications: 'loud',
        window: { width: 5, height: 5 },
        launchAtLogin: 'yes',
        pause: { jobs: [1], until: 'soon' },
      }),
    )
    expect(new SettingsStore(path).get()).toEqual(DEFAULT_SETTINGS)
    const s = new SettingsStore(path)
    s.update({ pause: { jobs: ['a'], until: null } })
    expect(JSON.parse(readFileSync(path, 'utf8')).pause).toEqual({ jobs: ['a'], until: null })
  })
})
