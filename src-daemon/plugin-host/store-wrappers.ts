// Decorators composed once around every store plugin, as restic wraps its
// backends: no plugin re-implements them, and every caller gets them.
//
//   retry  a call failing with a transient error is tried again, with
//          exponential backoff and jitter, and says so in the task log;
//          permanent errors, not-found and aborts are passed on at once.
//   limit  at most capabilities.connections calls run at once per plugin and
//          endpoint; the others wait for a slot (or for their abort).
//
// Retry sits outside the limit, so a call waiting to be retried holds no slot.
// What the plugin declares (capabilities) and cleanup pass through.
import { createHash } from 'node:crypto'
import { finished, type Readable } from 'node:stream'
import {
  PluginAbortedError,
  isRetryable,
  rewind,
  storeCapabilities,
  type Endpoint,
  type PluginContext,
  type StoredObject,
  type StorePlugin,
} from '../../plugins/sdk'

export interface WrapOptions {
  /** Tries per call, the first included (default 5). */
  attempts?: number
  /** Wait before the second try (default 500 ms); it doubles for each later one. */
  baseDelayMs?: number
  /** Longest wait between tries (default 10 s). */
  maxDelayMs?: number
  /** Waits ms, or rejects with PluginAbortedError as soon as signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** In [0, 1): spreads the waits so that many callers do not retry in step. */
  random?: () => number
}

export { isRetryable }

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new PluginAbortedError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new PluginAbortedError())
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A counting semaphore whose waiters give up when their signal aborts. */
class Slots {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(
    readonly size: number,
    private readonly onIdle: () => void,
  ) {}

  /** Resolves to the function that gives the slot back (calling it twice is harmless). */
  async take(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw new PluginAbortedError()
    if (this.active < this.size) {
      this.active++
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = () => {
          this.waiting.splice(this.waiting.indexOf(grant), 1)
          reject(new PluginAbortedError())
        }
        this.waiting.push(grant)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    let given = false
    return () => {
      if (given) return
      given = true
      const next = this.waiting.shift()
      if (next) return next() // the slot passes on, still counted
      if (--this.active === 0) this.onIdle()
    }
  }
}

/** endpointId per endpoint object: store handles pass the same one to every call. */
const endpointIds = new WeakMap<Endpoint, string>()

/** Identifies an endpoint without keeping its secrets as a map key. */
function endpointId(endpoint: Endpoint): string {
  let id = endpointIds.get(endpoint)
  if (id === undefined) {
    id = hashEndpoint(endpoint)
    endpointIds.set(endpoint, id)
  }
  return id
}

function hashEndpoint(endpoint: Endpoint): string {
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        )
      : v
  return createHash('sha256')
    .update(JSON.stringify(sorted(endpoint)))
    .digest('hex')
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

const WRAPPED = Symbol('bulwark.store.wrapped')

/** Retry and limit around plugin; wrapping a wrapped store returns it as it is. */
export function wrapStore(plugin: StorePlugin, opts: WrapOptions = {}): StorePlugin {
  if ((plugin as { [WRAPPED]?: true })[WRAPPED]) return plugin
  const attempts = Math.max(1, opts.attempts ?? 5)
  const base = opts.baseDelayMs ?? 500
  const cap = opts.maxDelayMs ?? 10_000
  const sleep = opts.sleep ?? abortableSleep
  const random = opts.random ?? Math.random
  const connections = storeCapabilities(plugin).connections
  const slots = new Map<string, Slots>()

  const take = (endpoint: Endpoint, signal: AbortSignal) => {
    const id = endpointId(endpoint)
    let s = slots.get(id)
    if (!s) {
      s = new Slots(connections, () => slots.delete(id))
      slots.set(id, s)
    }
    return s.take(signal)
  }

  /** Runs fn in a slot, released when it settles. */
  const limited = async <T>(endpoint: Endpoint, ctx: PluginContext, fn: () => Promise<T>) => {
    const release = await take(endpoint, ctx.signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  /** Runs attempt(n) until it succeeds, fails for good, or tries run out. */
  async function retried<T>(
    what: string,
    ctx: PluginContext,
    attempt: (n: number) => Promise<T>,
    canRetry: (err: unknown) => boolean = () => true,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt(n)
      } catch (err) {
        if (ctx.signal.aborted) throw new PluginAbortedError()
        if (n >= attempts || !isRetryable(err) || !canRetry(err)) throw err
        const delay = Math.min(cap, base * 2 ** (n - 1)) * (0.5 + random())
        ctx.log(
          `store: ${what} failed (${(err as Error).message}); retrying in ${seconds(delay)} (attempt ${n + 1} of ${attempts})`,
        )
        await sleep(delay, ctx.signal)
      }
    }
  }

  const wrapped: StorePlugin & { [WRAPPED]: true } = {
    [WRAPPED]: true,
    ...(plugin.capabilities ? { capabilities: plugin.capabilities } : {}),

    put(endpoint, key, data, ctx) {
      // Only a body that can be made again is sent again.
      const again = rewind(data)
      return retried(
        `put ${key}`,
        ctx,
        (n) =>
          limited(endpoint, ctx, () => plugin.put(endpoint, key, n === 1 ? data : again!(), ctx)),
        () => again !== undefined,
      )
    },

    get(endpoint, key, ctx, options) {
      // The slot is held while the stream is read; a failure mid-stream is
      // the caller's to handle (it may have used part of the data already).
      return retried(`get ${key}`, ctx, async () => {
        const release = await take(endpoint, ctx.signal)
        let stream: Readable
        try {
          stream = await plugin.get(endpoint, key, ctx, options)
        } catch (err) {
          release()
          throw err
        }
        finished(stream, { writable: false }, () => release())
        return stream
      })
    },

    head(endpoint, key, ctx) {
      return retried(`head ${key}`, ctx, () =>
        limited(endpoint, ctx, () => plugin.head(endpoint, key, ctx)),
      )
    },

    delete(endpoint, key, ctx) {
      return retried(`delete ${key}`, ctx, () =>
        limited(endpoint, ctx, () => plugin.delete(endpoint, key, ctx)),
      )
    },

    async *list(endpoint, prefix, ctx) {
      // Retried until the first object arrives; after that the caller has
      // seen part of the listing, and a failure is passed on.
      const next = (it: AsyncIterator<StoredObject>) => limited(endpoint, ctx, () => it.next())
      let it!: AsyncIterator<StoredObject>
      let step = await retried(`list ${prefix || '(all)'}`, ctx, () => {
        it = plugin.list(endpoint, prefix, ctx)[Symbol.asyncIterator]()
        return next(it)
      })
      try {
        while (!step.done) {
          yield step.value
          step = await next(it)
        }
      } finally {
        if (!step.done) await it.return?.()
      }
    },

    test(endpoint, ctx) {
      // Not retried: a person is waiting to hear whether the store answers.
      return limited(endpoint, ctx, () => plugin.test(endpoint, ctx))
    },
  }
  const cleanup = plugin.cleanup?.bind(plugin)
  if (cleanup) {
    wrapped.cleanup = (endpoint, olderThanMs, ctx) =>
      retried('cleanup', ctx, () =>
        limited(endpoint, ctx, () => cleanup(endpoint, olderThanMs, ctx)),
      )
  }
  return wrapped
}
