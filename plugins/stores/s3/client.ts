// One S3Client per distinct connection config (kept, so connections and
// credentials from the default chain are reused across the many small puts of
// a backup), with short connect timeouts and the SDK's own retries.
//
// lib-storage's Upload sends its requests without an AbortSignal and keeps
// its other part uploads going when one fails. A put therefore runs inside a
// PutScope (AsyncLocalStorage): the request handler gives every request made
// on the put's behalf the put's signal, and a middleware reports the first
// failed command, so the put can stop at once instead of finishing the stream.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import { S3Client } from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { S3Config } from './config'

/** An unreachable endpoint fails in seconds: 5 s per connection attempt. */
export const CONNECT_TIMEOUT_MS = 5_000
/** A connection that moves no bytes for this long is dropped (and retried). */
export const IDLE_TIMEOUT_MS = 120_000
/**
 * Attempts per request inside the SDK (one quick retry, for a dropped
 * connection). The daemon wraps every store in its own retry with backoff
 * (src-daemon/plugin-host/store-wrappers.ts), so more here would multiply.
 */
export const MAX_ATTEMPTS = 2
const MAX_CLIENTS = 8

export interface PutScope {
  /** Aborts every request of the put. */
  signal: AbortSignal
  /** Called with the error of each command that failed after its retries. */
  failed(err: unknown): void
}

const scope = new AsyncLocalStorage<PutScope>()

/** Runs fn so that every S3 request it makes belongs to the put described by s. */
export const inPutScope = <T>(s: PutScope, fn: () => Promise<T>): Promise<T> => scope.run(s, fn)

class ScopedHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>) {
    const signal = scope.getStore()?.signal
    if (!signal || options?.abortSignal) return super.handle(request, options)
    return super.handle(request, { ...options, abortSignal: signal })
  }
}

function createClient(cfg: S3Config): S3Client {
  const checksums = cfg.checksumMode === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'
  const client = new S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : { followRegionRedirects: true }),
    forcePathStyle: cfg.forcePathStyle,
    // Without keys, the SDK's default chain: environment, profile, SSO, instance role.
    ...(cfg.accessKeyId && cfg.secretAccessKey
      ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } }
      : {}),
    maxAttempts: MAX_ATTEMPTS,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    requestHandler: new ScopedHandler({
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: IDLE_TIMEOUT_MS,
    }),
  })
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args)
      } catch (err) {
        scope.getStore()?.failed(err)
        throw err
      }
    },
    { step: 'initialize', name: 'bulwarkPutScope' },
  )
  return client
}

const clients = new Map<string, S3Client>()

/** The shared client for cfg's connection settings (bucket and prefix do not matter). */
export function clientFor(cfg: S3Config): S3Client {
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        cfg.region,
        cfg.endpoint,
        cfg.accessKeyId,
        cfg.secretAccessKey,
        cfg.forcePathStyle,
        cfg.checksumMode,
      ]),
    )
    .digest('hex')
  let client = clients.get(id)
  if (client) {
    clients.delete(id) // most recently used last
  } else {
    client = createClient(cfg)
    if (clients.size >= MAX_CLIENTS) {
      const [oldId, old] = clients.entries().next().value!
      clients.delete(oldId)
      // Calls still running on it may finish; then its sockets go.
      setTimeout(() => old.destroy(), 10 * 60_000).unref()
    }
  }
  clients.set(id, client)
  return client
}
