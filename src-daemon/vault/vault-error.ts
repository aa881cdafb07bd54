// The one error of the vault format: which kind of failure (a wrong
// password, a damaged or missing object, a format this build cannot read)
// and, when it is about one, the store object it names.
export type VaultErrorCode = 'wrong_password' | 'corrupt' | 'missing' | 'unsupported'

export class VaultError extends Error {
  readonly code: VaultErrorCode
  /** The store object found missing or damaged, when the error is about one. */
  readonly key?: string

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown; key?: string }) {
    super(message, options)
    this.name = 'VaultError'
    this.code = code
    this.key = options?.key
  }
}

/** Whether the error proves an object of the archive missing or damaged (not a password or a store failure). */
export const isDamage = (err: unknown): err is VaultError =>
  err instanceof VaultError && (err.code === 'missing' || err.code === 'corrupt')
