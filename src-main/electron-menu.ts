// The tray model's menu as Electron's menu template. Only electron's types are
// imported, so this runs (and is tested) under plain Node; index.ts hands the
// result to Menu.buildFromTemplate.
import type { MenuItemConstructorOptions } from 'electron'
import type { MenuItem, TrayAction } from './tray-model'

export function menuTemplate(
  items: MenuItem[],
  dispatch: (action: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((m): MenuItemConstructorOptions => {
    if (m.kind === 'separator') return { type: 'separator' }
    if (m.kind === 'label') return { label: m.label, enabled: false }
    if (m.kind === 'submenu') return { label: m.label, submenu: menuTemplate(m.items, dispatch) }
    const click = () => dispatch(m.action)
    if (m.kind === 'check') {
      return { label: m.label, type: m.radio ? 'radio' : 'checkbox', checked: m.checked, click }
    }
    return { label: m.label, enabled: m.enabled ?? true, click }
  })
}
