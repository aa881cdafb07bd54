// Counts the bytes flowing through a task and reports them, at most a few
// times a second, so progress is live without flooding the catalog.
import { Transform, type TransformCallback } from 'node:stream'
import { formatBytes as formatBytesIn } from '../contract/format-bytes'

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

/** Task logs' sizes: one decimal above bytes, up to TiB ("1.5 KiB"). */
export const formatBytes = (n: number): string => formatBytesIn(n, { largest: 'TiB' })

export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return ''
  return `${formatBytes((bytes * 1000) / ms)}/s`
}
