// A put body that can be sent again. A plain stream is consumed by a failed
// put, so the put cannot be retried; a body made by retryableBody() carries a
// way to make a fresh, identical stream, which the host's retry decorator
// finds with rewind(). To a plugin it is an ordinary byte stream.
import { Readable } from 'node:stream'

const REWIND = Symbol.for('bulwark.store.rewind')

type Rewindable = Readable & { [REWIND]?: () => Readable }

/** A byte stream of parts (kept, not copied) that rewind() can make again. */
export function retryableBody(parts: Buffer[]): Readable {
  const kept = parts.filter((p) => p.length > 0)
  const make = (): Readable => {
    let next = 0
    const stream: Rewindable = new Readable({
      read() {
        this.push(next < kept.length ? kept[next++] : null)
      },
    })
    stream[REWIND] = make
    return stream
  }
  return make()
}

/** How to make a fresh copy of data, if it is a retryableBody; undefined otherwise. */
export function rewind(data: Readable): (() => Readable) | undefined {
  return (data as Rewindable)[REWIND]
}
