// Where command output goes and how it is laid out: aligned tables for lists,
// "Key:  value" blocks for single objects, pretty JSON for --json.

export interface Writer {
  stdout(text: string): void
  stderr(text: string): void
  /** stdout is a terminal: live progress may redraw one line in place. */
  isTTY?: boolean
}

export type Cell = string | number | boolean | null | undefined

const cellText = (c: Cell): string =>
  c === null || c === undefined || c === ''
    ? '-'
    : typeof c === 'boolean'
      ? c
        ? 'yes'
        : 'no'
      : String(c)

/** Columns separated by two spaces, padded to the widest cell; trailing spaces trimmed. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(headers), ...text.map(line)].join('\n') + '\n'
}

export type Pair = readonly [key: string, value: Cell]

/** `Key:  value` lines with the values aligned; multi-line values are indented. */
export function formatPairs(pairs: readonly Pair[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1))
  const indent = ' '.repeat(width + 2)
  return (
    pairs
      .map(([k, v]) => {
        const value = cellText(v).split('\n').join(`\n${indent}`)
        return `${`${k}:`.padEnd(width)}  ${value}`.trimEnd()
      })
      .join('\n') + '\n'
  )
}

export class Output {
  constructor(private readonly w: Writer) {}

  get tty(): boolean {
    return this.w.isTTY === true
  }

  line(text = ''): void {
    this.w.stdout(`${text}\n`)
  }

  /** Text as is, no newline added (a progress line redrawn with "\r"). */
  write(text: string): void {
    this.w.stdout(text)
  }

  json(value: unknown): void {
    this.w.stdout(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** One value per line (JSON Lines), for streams such as `show task --follow --json`. */
  jsonLine(value: unknown): void {
    this.w.stdout(`${JSON.stringify(value)}\n`)
  }

  table(headers: readonly string[], rows: readonly (readonly Cell[])[], empty: string): void {
    if (rows.length === 0) this.line(empty)
    else this.w.stdout(formatTable(headers, rows))
  }

  pairs(pairs: readonly Pair[]): void {
    this.w.stdout(formatPairs(pairs))
  }

  /** Remarks for the person, kept off stdout so scripts can parse it. */
  note(text: string): void {
    this.w.stderr(`${text}\n`)
  }
}
