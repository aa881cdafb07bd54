// Counts the bytes flowing through a task and reports them, at most a few
// times a second, so progress is live without flooding the catalog.
import { Transform, type TransformCallback } from 'node:stream'

export class ByteCounter extends Transform {
  bytes = 0
  private last = 0

  constructor(
    private readonly report: (bytes: number) => void,
    private readonly now: () => number,
    private readonly everyMs = 500,
  ) {
    super({ highWaterMark: 1024 * 1024 })
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    const t = this.now()
    if (t - this.last >= this.everyMs) {
      this.last = t
      this.report(this.bytes)
    }
    done(null, chunk)
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return ''
  return `${formatBytes((bytes * 1000) / ms)}/s`
}
