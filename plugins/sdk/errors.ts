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

/** Thrown when the operation was stopped through its AbortSignal. */
export class PluginAbortedError extends Error {
  constructor(message = 'canceled') {
    super(message)
    this.name = 'PluginAbortedError'
  }
}

export const isTransient = (err: unknown): boolean =>
  err instanceof PluginError && err.kind === 'transient'
