// A store plugin that fails now and then, for tests of everything that must
// survive a store's brief failures (the retry decorator, backups, restores):
//
//   const store = wrapStore(faultyStore(fsPlugin, { every: 3, seed: 1 }))
//
// Of every `every` calls, one (at a place in each run of `every` that the
// seed picks) fails transiently: it rejects with PluginError(kind
// 'transient') before reaching the plugin, or, for a get and when
// `midStream` allows, hands back a stream that fails with one after part of
// the object. Put it under wrapStore, as the registry composes them.
//
// Rules that keep a fault survivable, so that a test can expect success:
// - the next call with the same operation and key after a fault never fails
//   (a retry, or a caller fetching again, goes through);
// - a put whose body cannot be sent again (not a retryableBody) is never
//   failed: nothing could retry it;
// - a call whose signal is already aborted, and test(), are never failed.
// `injected` counts the faults so far, per operation.
import { Transform, type Readable } from 'node:stream'
import { PluginError } from '../../plugins/sdk/errors'
import { rewind } from '../../plugins/sdk/retryable-body'
import type { StorePlugin } from '../../plugins/sdk/types'

export interface FaultOptions {
  /** One call in this many fails (at least 2). */
  every: number
  /** Picks which call of each run fails; same seed, same faults for the same calls. */
  seed?: number
  /** Whether a get may fail mid-stream rather than at once (default true). */
  midStream?: boolean
}

export type FaultyOp = 'put' | 'get' | 'get-stream' | 'head' | 'delete' | 'list' | 'cleanup'

export interface FaultyStore extends StorePlugin {
  /** Faults injected so far, by operation ('get-stream': a get whose stream failed). */
  readonly injected: Record<FaultyOp, number>
}

/** mulberry32: a small seeded generator, enough to spread faults reproducibly. */
function generator(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const fault = (op: string, key: string) =>
  new PluginError(`injected fault: ${op} ${key} failed (connection reset)`, 'transient')

/** A stream of `source` that fails transiently about halfway through its first chunk. */
function failingMidway(source: Readable, key: string): Readable {
  let sent = false
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (sent) return done()
      sent = true
      this.push(chunk.subarray(0, Math.floor(chunk.length / 2)))
      done(fault('get', `${key} (mid-stream)`))
    },
    flush(done) {
      done(fault('get', `${key} (at its end)`))
    },
  })
  source.once('error', (err) => out.destroy(err))
  out.once('close', () => source.destroy())
  return source.pipe(out)
}

export function faultyStore(plugin: StorePlugin, opts: FaultOptions): FaultyStore {
  const every = Math.max(2, Math.floor(opts.every))
  const random = generator(opts.seed ?? 1)
  const midStream = opts.midStream ?? true
  const injected: Record<FaultyOp, number> = {
    put: 0,
    get: 0,
    'get-stream': 0,
    head: 0,
    delete: 0,
    list: 0,
    cleanup: 0,
  }
  let calls = 0
  let failAt = Math.floor(random() * every)
  let owed = false
  const justFailed = new Set<string>()

  /** Whether this call fails: one in every `every`, deferred past calls that must not. */
  function shouldFail(op: FaultyOp, key: string, signal: AbortSignal, eligible = true): boolean {
    if (calls % every === failAt) owed = true
    if (++calls % every === 0) failAt = Math.floor(random() * every)
    const id = `${op === 'get-stream' ? 'get' : op} ${key}`
    if (justFailed.delete(id) || signal.aborted || !eligible || !owed) return false
    owed = false
    justFailed.add(id)
    injected[op]++
    return true
  }

  const store: FaultyStore = {
    injected,
    ...(plugin.capabilities ? { capabilities: plugin.capabilities } : {}),
    async put(endpoint, key, data, ctx) {
      if (shouldFail('put', key, ctx.signal, rewind(data) !== undefined)) {
        data.destroy() // as a plugin does on failure; the retry sends a fresh copy
        throw fault('put', key)
      }
      return plugin.put(endpoint, key, data, ctx)
    },
    async get(endpoint, key, ctx, options) {
      const inStream = midStream && random() < 0.5
      if (!shouldFail(inStream ? 'get-stream' : 'get', key, ctx.signal)) {
        return plugin.get(endpoint, key, ctx, options)
      }
      if (!inStream) throw fault('get', key)
      return failingMidway(await plugin.get(endpoint, key, ctx, options), key)
    },
    async head(endpoint, key, ctx) {
      if (shouldFail('head', key, ctx.signal)) throw fault('head', key)
      return plugin.head(endpoint, key, ctx)
    },
    async delete(endpoint, key, ctx) {
      if (shouldFail('delete', key, ctx.signal)) throw fault('delete', key)
      return plugin.delete(endpoint, key, ctx)
    },
    async *list(endpoint, prefix, ctx) {
      if (shouldFail('list', prefix, ctx.signal)) throw fault('list', prefix || '(all)')
      yield* plugin.list(endpoint, prefix, ctx)
    },
    test: (endpoint, ctx) => plugin.test(endpoint, ctx),
  }
  const cleanup = plugin.cleanup?.bind(plugin)
  if (cleanup) {
    store.cleanup = async (endpoint, olderThanMs, ctx) => {
      if (shouldFail('cleanup', '', ctx.signal)) throw fault('cleanup', '')
      return cleanup(endpoint, olderThanMs, ctx)
    }
  }
  return store
}
