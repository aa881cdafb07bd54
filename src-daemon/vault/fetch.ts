// Reading a whole small object (a chunk, a manifest, vault.json, a lock, the
// GC epoch) from a store, bounded in size. The store wrapper retries a get
// that fails before its stream starts; a stream that breaks midway with a
// transient error (a connection reset mid-object) is fetched again whole here.
import type { Readable } from 'node:stream'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { isRetryable } from '../../plugins/sdk'
import { VaultError } from './objects'

/** The whole object, refusing one larger than limit (a damaged or foreign object must not exhaust memory). */
export async function fetchObject(
  store: StorePlugin,
  endpoint: Endpoint,
  key: string,
  ctx: PluginContext,
  limit: number,
  name: string,
): Promise<Buffer> {
  // The store wrapper retries a get that fails before its stream; a stream
  // that breaks midway (a connection reset mid-object) is fetched again
  // whole here, a few times, when the failure is transient.
  // (A get that fails before its stream is not tried again here: the wrapper
  // has retried it already.)
  for (let attempt = 1; ; attempt++) {
    const stream = await store.get(endpoint, key, ctx)
    try {
      return await readWhole(stream, limit, name)
    } catch (err) {
      if (attempt >= MID_STREAM_ATTEMPTS || ctx.signal.aborted || !isRetryable(err)) throw err
      ctx.log(`store: reading ${key} broke off (${(err as Error).message}); fetching it again`)
    }
  }
}

/** Tries of a whole object whose stream fails transiently midway. */
const MID_STREAM_ATTEMPTS = 3

async function readWhole(stream: Readable, limit: number, name: string): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  for await (const part of stream) {
    const buf = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array)
    total += buf.length
    if (total > limit) {
      stream.destroy()
      throw new VaultError('corrupt', `${name} is corrupt: it is over ${limit} bytes`)
    }
    parts.push(buf)
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total)
}
