// The tray menu as Electron's template (src-main/electron-menu.ts), built
// from the tray model's real view: kinds map to Electron's item types, and
// each click dispatches the model's action.
import { describe, expect, it } from 'vitest'
import type { Job } from '../../src-daemon/contract'
import { menuTemplate } from '../../src-main/electron-menu'
import { trayView, type TrayAction } from '../../src-main/tray-model'

const job = {
  uuid: 'j1',
  name: 'nightly',
  paused: false,
  last_run: null,
  last_status: null,
  next_run: null,
} as Job

describe('tray menu template', () => {
  it('maps the model to Electron items and dispatches the clicked action', () => {
    const view = trayView({
      daemon: 'ready',
      jobs: [job],
      running: 0,
      health: [],
      pause: null,
      notifications: 'failures',
      launchAtLogin: false,
      background: true,
      now: 0,
    })
    const sent: TrayAction[] = []
    const template = menuTemplate(view.menu, (a) => sent.push(a))
    expect(template[0]).toEqual({ label: 'Bulwark: all backups ok', enabled: false })
    expect(template[1]).toEqual({ type: 'separator' })
    const jobMenu = template[2]!.submenu as Electron.MenuItemConstructorOptions[]
    expect(template[2]!.label).toBe('nightly: never run · no next run')
    expect(jobMenu[0]).toMatchObject({ label: 'Back up now', enabled: true })
    jobMenu[0]!.click!({} as never, undefined, {} as never)
    const notifications = template.find((t) => t.label === 'Notifications')!
      .submenu as Electron.MenuItemConstructorOptions[]
    expect(notifications.map((n) => [n.label, n.type, n.checked])).toEqual([
      ['All', 'radio', false],
      ['Failures only', 'radio', true],
      ['Off', 'radio', false],
    ])
    notifications[0]!.click!({} as never, undefined, {} as never)
    const background = template.find((t) => t.label === 'Keep backups running in the background')!
    expect(background).toMatchObject({ type: 'checkbox', checked: true })
    background.click!({} as never, undefined, {} as never)
    template.at(-1)!.click!({} as never, undefined, {} as never)
    expect(sent).toEqual([
      { type: 'run-job', job: 'j1' },
      { type: 'notifications', level: 'all' },
      { type: 'background', on: false },
      { type: 'quit' },
    ])
  })
})
