// Stable, machine-readable API error codes. Every error response is
// `{ "error": { "code", "message", "field"? } }` with one of these codes, so
// clients branch on the code and show the message to a person.

export const ErrorCode = {
  /** The body is not valid JSON. */
  InvalidJson: 'invalid_json',
  /** A field, parameter or query value is missing or has the wrong type or value. */
  Validation: 'validation',
  /** A plugin named in the request is not installed. */
  UnknownPlugin: 'unknown_plugin',
  /** A schedule's `when` is not a timespec or cron expression. */
  InvalidSchedule: 'invalid_schedule',
  /** No Authorization header, or the token is wrong. */
  Unauthorized: 'unauthorized',
  /** The Host header names somebody else (DNS rebinding guard). */
  ForbiddenHost: 'forbidden_host',
  /** Nothing with that uuid (or name). */
  NotFound: 'not_found',
  /** The request conflicts with the current state (e.g. deleting a store a job uses). */
  Conflict: 'conflict',
  /** A plugin or data system failed in a way a person can act on. */
  PluginFailed: 'plugin_failed',
  /** Something broke inside the daemon; details are in its log, not in the response. */
  Internal: 'internal',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface ApiErrorBody {
  error: {
    code: ErrorCode
    message: string
    /** The request field at fault, as a dotted path (`endpoint.password`, `expires`, `uuid`). */
    field?: string
    /** Extra structured detail, e.g. the jobs that block a delete. */
    details?: Record<string, unknown>
  }
}

/** HTTP status that goes with each code. */
export const errorStatus: Record<ErrorCode, number> = {
  invalid_json: 400,
  validation: 400,
  unknown_plugin: 400,
  invalid_schedule: 400,
  unauthorized: 401,
  forbidden_host: 403,
  not_found: 404,
  conflict: 409,
  plugin_failed: 502,
  internal: 500,
}

/**
 * An error a person can act on, carrying its API code. Services throw it; the
 * API turns it into a response; the client rebuilds it from a response.
 */
export class BulwarkError extends Error {
  readonly code: ErrorCode
  readonly field: string | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, field?: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'BulwarkError'
    this.code = code
    this.field = field
    this.details = details
  }
}

export const notFound = (what: string, uuid: string): BulwarkError =>
  new BulwarkError(ErrorCode.NotFound, `no ${what} with uuid ${uuid}`)

export const invalid = (field: string, message: string): BulwarkError =>
  new BulwarkError(ErrorCode.Validation, message, field)
