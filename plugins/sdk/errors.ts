// How plugins report failure. A permanent error (wrong password, no such
// database, bucket missing) will fail again if retried; a transient one
// (connection reset, throttled) may succeed later. Messages are for people:
// say what is wrong and what to do about it, and never include a secret.

export type PluginErrorKind = 'permanent' | 'transient'

export class PluginError extends Error {
  readonly kind: PluginErrorKind

  constructor(message: string, kind: PluginErrorKind = 'permanent', options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PluginError'
    this.kind = kind
  }
}

/**
 * A store has no object under the key asked for. Permanent: asking again
 * gives the same answer, so it is never retried. The message names the key
 * (and the store), so it reads well on its own.
 */
export class PluginNotFoundError extends PluginError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'permanent', options)
    this.name = 'PluginNotFoundError'
  }
}

/** Thrown when the operation was stopped through its AbortSignal. */
export class PluginAbortedError extends Error {
  constructor(message = 'canceled') {
    super(message)
    this.name = 'PluginAbortedError'
  }
}

export const isTransient = (err: unknown): boolean =>
  err instanceof PluginError && err.kind === 'transient'

/** Errors a plugin left unclassified that are a network's, not the request's, fault. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'])

/**
 * True when trying a store call again may work: a PluginError of kind
 * transient, or an unclassified network failure; never a cancel or a missing key.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PluginAbortedError || isNotFound(err)) return false
  if (err instanceof PluginError) return err.kind === 'transient'
  const e = err as { code?: unknown; message?: unknown } | undefined
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true
  return typeof e?.message === 'string' && /socket hang up/i.test(e.message)
}

/** True for a store's "no object under this key" (get of a missing key). */
export const isNotFound = (err: unknown): err is PluginNotFoundError =>
  err instanceof PluginNotFoundError
