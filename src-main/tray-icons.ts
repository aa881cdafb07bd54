// The tray's icons, drawn here rather than shipped as files: a filled disc
// in the state's colour, as raw BGRA pixels (what Electron's
// nativeImage.createFromBitmap takes), with a soft edge so it is not jagged.
import type { TrayIcon } from './tray-model'

export const TRAY_ICON_SIZE = 32

/** Colour per state as [r, g, b]: red, amber, blue, grey, green. */
export const TRAY_COLOURS: Record<TrayIcon, [number, number, number]> = {
  failing: [0xd0, 0x30, 0x30],
  warning: [0xe0, 0x9a, 0x10],
  running: [0x2f, 0x7d, 0xe1],
  paused: [0x8a, 0x8f, 0x98],
  ok: [0x2e, 0xa0, 0x4f],
}

export function trayBitmap(icon: TrayIcon, size = TRAY_ICON_SIZE): Buffer {
  const [r, g, b] = TRAY_COLOURS[icon]
  const px = Buffer.alloc(size * size * 4)
  const c = (size - 1) / 2
  const radius = size / 2 - 1
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - c, y - c)
      const alpha = Math.max(0, Math.min(1, radius - d + 0.5))
      const i = (y * size + x) * 4
      px[i] = b
      px[i + 1] = g
      px[i + 2] = r
      px[i + 3] = Math.round(alpha * 255)
    }
  }
  return px
}
