// The data the store suite streams: a pull-based random source (each chunk
// made only when the consumer asks for it, so a test can see how far a store
// read), which can fail or slow down on purpose, with the digest of what it made.
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

export const MiB = 1024 * 1024

/** A pull-based source: each chunk is made only when the consumer asks for it. */
export function source(size: number, opts: { failAt?: number; delayMs?: number } = {}) {
  const hash = createHash('sha256')
  let made = 0
  const stream = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      const emit = () => {
        if (this.destroyed) return
        if (opts.failAt !== undefined && made >= opts.failAt) {
          this.destroy(new Error('source failed on purpose'))
          return
        }
        if (made >= size) return void this.push(null)
        const chunk = randomBytes(Math.min(64 * 1024, size - made))
        made += chunk.length
        hash.update(chunk)
        this.push(chunk)
      }
      if (opts.delayMs) setTimeout(emit, opts.delayMs)
      else emit()
    },
  })
  return { stream, made: () => made, digest: () => hash.digest('hex') }
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
