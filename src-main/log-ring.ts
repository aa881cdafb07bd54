// The daemon's recent output for the app's "logs" view: a fixed number of
// lines, oldest dropped first, so a daemon that logs for weeks costs no more
// memory than one that just started.

export interface LogLine {
  /** Milliseconds since the epoch, when the supervisor read the line. */
  at: number
  /** Where it came from: the daemon's stderr (its log), stdout, or the supervisor itself. */
  source: 'stderr' | 'stdout' | 'supervisor'
  text: string
}

export class LogRing {
  private readonly lines: LogLine[] = []
  private start = 0

  constructor(readonly capacity = 500) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`a log ring holds at least one line (got ${capacity})`)
    }
  }

  push(line: LogLine): void {
    if (this.lines.length < this.capacity) {
      this.lines.push(line)
      return
    }
    this.lines[this.start] = line
    this.start = (this.start + 1) % this.capacity
  }

  /** The lines held, oldest first. */
  snapshot(): LogLine[] {
    return [...this.lines.slice(this.start), ...this.lines.slice(0, this.start)]
  }

  get size(): number {
    return this.lines.length
  }
}
