// API failures in words a person can act on, and the field they belong to.
import { ApiError, DaemonUnreachableError } from '../../../src-daemon/client'

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message
  if (err instanceof DaemonUnreachableError)
    return 'The daemon does not answer. Is it running? Start it with "npm start" or "bulwark daemon".'
  if (err instanceof Error) return err.message
  return String(err)
}

/** The endpoint field a 400 names ("endpoint.host" → "host"), if any. */
export function endpointField(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || !err.field) return undefined
  return err.field.startsWith('endpoint.') ? err.field.slice('endpoint.'.length) : undefined
}

export function errorField(err: unknown): string | undefined {
  return err instanceof ApiError ? err.field : undefined
}

/** The structured details of the daemon's refusal (`error.details`), or {} when it has none. */
export function errorDetails(err: unknown): Record<string, unknown> {
  return err instanceof ApiError ? (err.details ?? {}) : {}
}
