// Turns what the AWS SDK throws (S3 error responses, network failures,
// credential-chain failures) into PluginErrors a person can act on, and says
// which ones may clear up if retried. No message ever carries the secret key.
import { PluginAbortedError, PluginError, type PluginErrorKind } from '../../sdk/errors'
import { urlOf, whereOf, type S3Config } from './config'

interface SdkError {
  name?: string
  code?: string
  message?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidSecurity',
])

const THROTTLING_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
])

/** Node network error codes, and how to say them. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

const isAbort = (e: SdkError) => e.name === 'AbortError' || e.code === 'ABORT_ERR'

/** Removes the secret key from a text taken from elsewhere (a server's error message). */
function scrub(text: string, cfg: S3Config): string {
  const secret = cfg.secretAccessKey
  return secret ? text.split(secret).join('***') : text
}

/** S3 errors carry the code as `name`; HEAD responses have no body, hence no code. */
function codeOf(e: SdkError): string {
  const name = e.name ?? ''
  return name === 'Unknown' || name === 'UnknownError' || name === 'Error' ? '' : name
}

export function describeS3Error(err: unknown, cfg: S3Config): Error {
  if (err instanceof PluginError || err instanceof PluginAbortedError) return err
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkError
  if (isAbort(e)) return new PluginAbortedError()
  const opts = { cause: err }
  const fail = (message: string, kind: PluginErrorKind = 'permanent') =>
    new PluginError(scrub(message, cfg), kind, opts)
  const bucket = cfg.bucket
  const status = e.$metadata?.httpStatusCode
  const code = codeOf(e)
  const detail = scrub(e.message ?? '', cfg)

  // No answer at all: the request never reached S3, or the connection broke.
  if (e.code && NETWORK_REASONS[e.code]) {
    return fail(`cannot reach S3 endpoint ${urlOf(cfg)}: ${NETWORK_REASONS[e.code]}`, 'transient')
  }
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return fail(`cannot reach S3 endpoint ${urlOf(cfg)}: ${detail || 'timed out'}`, 'transient')
  }
  if (e.code && TLS_CODES.has(e.code)) {
    return fail(
      `cannot reach S3 endpoint ${urlOf(cfg)}: its TLS certificate is not trusted (${e.code})`,
    )
  }
  if (e.name === 'CredentialsProviderError') {
    return fail(
      `no credentials for bucket ${bucket}: set access_key_id and secret_access_key, or provide them to the daemon through the AWS environment variables, a profile or an instance role (${detail})`,
    )
  }

  if (code === 'RequestTimeTooSkewed') {
    return fail(
      `S3 refused the request because this machine's clock is wrong; set the system clock (NTP) and try again`,
    )
  }
  if (CREDENTIAL_CODES.has(code) || (status === 403 && !code)) {
    return fail(
      cfg.accessKeyId
        ? `S3 refused the credentials for bucket ${bucket} (check access_key_id and secret_access_key)`
        : `S3 refused the credentials for bucket ${bucket} (they came from the default AWS credential chain; set access_key_id and secret_access_key, or fix the daemon's AWS environment, profile or role)`,
    )
  }
  if (code === 'AccessDenied' || code === 'AllAccessDisabled' || status === 403) {
    return fail(
      `S3 refused the credentials for bucket ${bucket} (check access_key_id and secret_access_key, and that the key may read, write, list and delete objects in the bucket)`,
    )
  }
  if (code === 'NoSuchBucket') {
    return fail(`bucket ${bucket} does not exist at ${whereOf(cfg)}`)
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301) {
    const actual = e.$response?.headers?.['x-amz-bucket-region']
    return fail(
      `bucket ${bucket} is not in region ${cfg.region}${actual ? ` but in ${actual}` : ''}; set region to the bucket's region`,
    )
  }
  if (THROTTLING_CODES.has(code) || status === 429) {
    return fail(
      `S3 is throttling requests to bucket ${bucket} (${code || status}); try again later`,
      'transient',
    )
  }
  if (code === 'NotImplemented' || status === 501) {
    return fail(
      `S3 endpoint ${urlOf(cfg)} does not implement a request Bulwark made for bucket ${bucket} (${code || 'HTTP 501'})`,
    )
  }
  if (
    (status !== undefined && status >= 500) ||
    e.$fault === 'server' ||
    code === 'RequestTimeout'
  ) {
    return fail(
      `S3 endpoint ${urlOf(cfg)} failed to serve bucket ${bucket}: ${code || `HTTP ${status}`}${detail && detail !== 'UnknownError' ? `: ${detail}` : ''}`,
      'transient',
    )
  }
  if (code === 'EntityTooLarge') {
    return fail(`the object is larger than bucket ${bucket} accepts (${detail})`)
  }
  if (status !== undefined) {
    return fail(
      `S3 rejected a request for bucket ${bucket}: ${code || `HTTP ${status}`}${detail && detail !== 'UnknownError' ? `: ${detail}` : ''}`,
    )
  }
  return fail(`S3 request for bucket ${bucket} failed: ${detail || code || 'unknown error'}`)
}

export const statusOf = (err: unknown) =>
  (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode

/** The error a call rejects with: abort wins, everything else is described. */
export const failure = (err: unknown, cfg: S3Config, signal: AbortSignal) =>
  signal.aborted ? new PluginAbortedError() : describeS3Error(err, cfg)
