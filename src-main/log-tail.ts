// Follows a file someone else appends to (a background daemon's log) by
// polling: fs.watch is unreliable across platforms and network home
// directories, and a few reads a second cost nothing. Calls `onLine` for each
// complete line written after `offset`.
import { closeSync, openSync, readSync, statSync } from 'node:fs'

export class LogTail {
  private timer: NodeJS.Timeout | undefined
  private partial = ''
  private readonly decoder = new TextDecoder()

  constructor(
    private readonly path: string,
    private offset: number,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs = 200,
  ) {}

  /** The file's current size (where to start following it from), 0 if it does not exist. */
  static sizeOf(path: string): number {
    try {
      return statSync(path).size
    } catch {
      return 0
    }
  }

  start(): this {
    this.readNew()
    this.timer = setInterval(() => this.readNew(), this.intervalMs)
    this.timer.unref()
    return this
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reads what was appended since the last read; also called on demand. */
  readNew(): void {
    let fd: number
    try {
      fd = openSync(this.path, 'r')
    } catch {
      return // not created yet
    }
    try {
      const size = statSync(this.path).size
      if (size < this.offset) this.offset = 0 // rotated or truncated: start over
      const buf = Buffer.alloc(64 * 1024)
      while (this.offset < size) {
        const n = readSync(fd, buf, 0, buf.length, this.offset)
        if (n <= 0) break
        this.offset += n
        this.partial += this.decoder.decode(buf.subarray(0, n), { stream: true })
        const lines = this.partial.split(/\r?\n/)
        this.partial = lines.pop() ?? ''
        for (const line of lines) this.onLine(line)
      }
    } finally {
      closeSync(fd)
    }
  }
}
