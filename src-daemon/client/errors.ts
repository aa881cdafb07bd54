// Errors the client throws: ApiError when the daemon answered with an error
// body, DaemonUnreachableError when nothing answered at all. Callers branch on
// `instanceof` and on `ApiError.code`, never on message text.
import { ErrorCode, type ApiErrorBody } from '../contract'

/** The daemon answered with a non-2xx status. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: number
  readonly code: ErrorCode
  readonly field?: string
  readonly details?: Record<string, unknown>

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    field?: string,
    details?: Record<string, unknown>,
  ) {
    super(message)
    this.status = status
    this.code = code
    if (field !== undefined) this.field = field
    if (details !== undefined) this.details = details
  }
}

/** The request never got an HTTP answer: connection refused, DNS, timeout. */
export class DaemonUnreachableError extends Error {
  override readonly name = 'DaemonUnreachableError'
  readonly url: string
  /** What went wrong, e.g. "ECONNREFUSED" or "no answer within 30000 ms". */
  readonly reason: string

  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot reach the Bulwark daemon at ${url}: ${reason}`, options)
    this.url = url
    this.reason = reason
  }
}

const knownCodes = new Set<string>(Object.values(ErrorCode))

function codeForStatus(status: number): ErrorCode {
  if (status === 400) return ErrorCode.Validation
  if (status === 401) return ErrorCode.Unauthorized
  if (status === 403) return ErrorCode.ForbiddenHost
  if (status === 404) return ErrorCode.NotFound
  if (status === 409) return ErrorCode.Conflict
  if (status === 502) return ErrorCode.PluginFailed
  return ErrorCode.Internal
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Builds an ApiError from a non-2xx response body. The contract's
 * `{error:{code,message,field,details}}` is the normal case; anything else
 * (a proxy's HTML page, a framework's own 404) still yields a usable error.
 */
export function apiErrorFrom(status: number, statusText: string, body: unknown): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const e = body.error as Partial<ApiErrorBody['error']>
    const code =
      typeof e.code === 'string' && knownCodes.has(e.code) ? e.code : codeForStatus(status)
    const message = typeof e.message === 'string' && e.message ? e.message : `HTTP ${status}`
    const field = typeof e.field === 'string' ? e.field : undefined
    const details = isRecord(e.details) ? e.details : undefined
    return new ApiError(status, code, message, field, details)
  }
  const message =
    isRecord(body) && typeof body.message === 'string'
      ? body.message
      : `HTTP ${status}${statusText ? ` ${statusText}` : ''}`
  return new ApiError(status, codeForStatus(status), message)
}
