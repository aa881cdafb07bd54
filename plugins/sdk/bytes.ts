// Reading a byte stream in exact-length pieces, for framed formats (length-
// prefixed records): waits for as many chunks as a read needs, keeps the rest.
import type { Readable } from 'node:stream'

export class ByteReader {
  private buffered: Buffer = Buffer.alloc(0)
  private readonly it: AsyncIterator<Buffer>

  /** `truncated()` makes the error thrown when the stream ends before a read is complete. */
  constructor(
    source: Readable,
    private readonly truncated: () => Error,
  ) {
    this.it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  }

  async exact(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      const next = await this.it.next()
      if (next.done) throw this.truncated()
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, next.value]) : next.value
    }
    const out = this.buffered.subarray(0, n)
    this.buffered = this.buffered.subarray(n)
    return out
  }

  /** True when the stream has nothing more. */
  async atEnd(): Promise<boolean> {
    if (this.buffered.length > 0) return false
    const next = await this.it.next()
    if (next.done) return true
    this.buffered = next.value
    return false
  }
}
