// Byte counts as people read them ("1.5 MiB"), for task logs, the CLI and the
// UI alike. Not part of the wire: it lives in the contract because the
// contract is the browser-safe leaf every layer may import. Each caller keeps
// the style it has always shown; the styles differ only in rounding.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

export interface ByteStyle {
  /** Above plain bytes one decimal is shown, none from this value on (10: "9.5 KiB", "12 KiB"). */
  wholeFrom?: number
  /** Plain bytes are shown as given ("512.5 B" for a rate) unless rounded. */
  roundBytes?: boolean
  /** The largest unit (default PiB): past it the number grows ("2048.0 TiB"). */
  largest?: 'TiB' | 'PiB'
}

/** n bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB". */
export function formatBytes(n: number, style: ByteStyle = {}): string {
  const top = UNITS.indexOf(style.largest ?? 'PiB')
  let value = n
  let unit = 0
  while (value >= 1024 && unit < top) {
    value /= 1024
    unit++
  }
  const digits = value >= (style.wholeFrom ?? Infinity) ? 0 : 1
  const text =
    unit > 0 ? value.toFixed(digits) : style.roundBytes ? value.toFixed(0) : String(value)
  return `${text} ${UNITS[unit]}`
}
