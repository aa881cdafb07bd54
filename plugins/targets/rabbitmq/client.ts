// The rabbitmq target's way to the broker: the endpoint checked and parsed,
// and requests to the management HTTP API (global fetch) whose failures
// become PluginErrors a person can act on. No message ever holds the password
// (it only travels in the Authorization header) or credentials from the URL.
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext } from '../../sdk/types'

export const DEFAULT_URL = 'http://127.0.0.1:15672'
/** How long a request may go unanswered: a host that drops packets fails a test() quickly... */
export const REQUEST_TIMEOUT_MS = 30_000
/** ...while a big broker's definitions can take a while to export or import. */
export const DEFINITIONS_TIMEOUT_MS = 300_000
export const ENABLE_HINT =
  'is the management plugin enabled? Enable it on the broker host with `rabbitmq-plugins enable rabbitmq_management`'

export interface RabbitEndpoint {
  /** The API's base, without a trailing slash: `${base}/api/...`. */
  base: string
  user: string
  password: string
  /** Only this vhost, or undefined for the whole broker. */
  vhost?: string
  replaceUsers: boolean
}

const text = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new PluginError(`the field ${field} must be a string`)
  return v
}

export function parseEndpoint(endpoint: Endpoint): RabbitEndpoint {
  const raw = text(endpoint.url, 'url') ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PluginError(`the field url is not a URL (expected something like ${DEFAULT_URL})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PluginError(`the field url must start with http:// or https://, not ${url.protocol}`)
  }
  if (url.username || url.password) {
    throw new PluginError(
      'the field url holds a user name or password: put them in the user and password fields instead',
    )
  }
  url.search = ''
  url.hash = ''
  return {
    base: url.toString().replace(/\/+$/, ''),
    user: text(endpoint.user, 'user') ?? 'guest',
    password: text(endpoint.password, 'password') ?? '',
    vhost: text(endpoint.vhost, 'vhost'),
    replaceUsers: endpoint.replace_users === true,
  }
}

/** An API path with a vhost in it: vhosts may hold '/', which must be sent as %2F. */
export const vhostPath = (prefix: string, vhost: string) => `${prefix}/${encodeURIComponent(vhost)}`

export const quoteVhost = (vhost: string) => JSON.stringify(vhost)

/** Why a request never got an answer, as the cause chain of fetch's TypeError tells. */
function networkError(err: unknown, e: RabbitEndpoint, timedOutMs?: number): Error {
  if (timedOutMs) {
    return new PluginError(
      `RabbitMQ's management API at ${e.base} did not answer within ${timedOutMs / 1000} s: check the url's host and port, or the broker may be overloaded`,
      'transient',
      { cause: err },
    )
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code ?? ''
  if (code === 'ECONNREFUSED') {
    return new PluginError(
      `nothing answers at ${e.base} (connection refused): ${ENABLE_HINT}, and check the url's host and port (the default port is 15672)`,
      'transient',
      { cause: err },
    )
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new PluginError(
      `the host of ${e.base} was not found (${code}); check the field url`,
      code === 'EAI_AGAIN' ? 'transient' : 'permanent',
      { cause: err },
    )
  }
  if (/CERT|SSL|TLS/i.test(code) || /certificate|SSL/i.test(cause?.message ?? '')) {
    return new PluginError(
      `the TLS connection to ${e.base} failed: ${cause?.message ?? code} (a certificate of your own CA is trusted once the daemon runs with NODE_EXTRA_CA_CERTS=<its PEM file>)`,
      'permanent',
      { cause: err },
    )
  }
  return new PluginError(
    `could not reach RabbitMQ's management API at ${e.base}: ${cause?.message ?? (err as Error).message}`,
    'transient',
    { cause: err },
  )
}

/** The error body of the management API: {"error": "...", "reason": "..."}. */
function reasonOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; error?: unknown }
    const reason = parsed.reason ?? parsed.error
    if (typeof reason === 'string') return reason
    if (reason !== undefined) return JSON.stringify(reason)
  } catch {
    // not JSON: a proxy's page, or something else listening
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200)
}

function httpError(
  status: number,
  body: string,
  e: RabbitEndpoint,
  what: string,
  path: string,
): Error {
  const reason = reasonOf(body)
  if (status === 404) {
    // The callers that can meet a 404 of RabbitMQ's own (a missing vhost) allow it and explain it.
    return new PluginError(
      `${e.base}/api${path.replace(/\?.*/, '')} was not found (HTTP 404): is the url that of RabbitMQ's management API (with its path, behind a proxy)? ${ENABLE_HINT}`,
    )
  }
  if (status === 401) {
    if (/not administrator/i.test(reason)) {
      return new PluginError(
        `RabbitMQ user "${e.user}" may not ${what}: it needs the administrator tag (rabbitmqctl set_user_tags ${e.user} administrator)`,
      )
    }
    if (/not management/i.test(reason)) {
      return new PluginError(
        `RabbitMQ user "${e.user}" may not use the management API: it needs the administrator tag`,
      )
    }
    if (/localhost/i.test(reason)) {
      return new PluginError(
        `RabbitMQ lets user "${e.user}" log in only from localhost (${reason}); use another user with the administrator tag`,
      )
    }
    const empty = e.password === '' ? ' (the password field is empty)' : ''
    return new PluginError(
      `RabbitMQ at ${e.base} refused the login of user "${e.user}": wrong user name or password${empty}`,
    )
  }
  if (status === 403)
    return new PluginError(`RabbitMQ refused to ${what} for "${e.user}": ${reason}`)
  if (status >= 500 || status === 429) {
    return new PluginError(`RabbitMQ failed to ${what} (HTTP ${status}): ${reason}`, 'transient')
  }
  return new PluginError(`RabbitMQ refused to ${what} (HTTP ${status}): ${reason}`)
}

export interface ApiResponse {
  status: number
  body: string
}

/**
 * One request to `${base}/api${path}`. Resolves for 2xx and for the statuses
 * in `allow` (a 404 the caller explains itself); rejects with a PluginError
 * for the rest, or PluginAbortedError when ctx.signal fired.
 */
export async function request(
  e: RabbitEndpoint,
  ctx: PluginContext,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  what: string,
  opts: { body?: string; allow?: number[]; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${e.user}:${e.password}`).toString('base64')}`,
    accept: 'application/json',
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  let body: string
  try {
    res = await fetch(`${e.base}/api${path}`, {
      method,
      headers,
      body: opts.body,
      signal: AbortSignal.any([ctx.signal, timeout]),
    })
    body = await res.text()
  } catch (err) {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    throw networkError(err, e, timeout.aborted ? timeoutMs : undefined)
  }
  if ((res.status >= 200 && res.status < 300) || opts.allow?.includes(res.status)) {
    return { status: res.status, body }
  }
  throw httpError(res.status, body, e, what, path)
}

/** A GET whose answer must be JSON; `what` says what was asked, for the error. */
export async function getJson(
  e: RabbitEndpoint,
  ctx: PluginContext,
  path: string,
  what: string,
  timeoutMs?: number,
): Promise<unknown> {
  const res = await request(e, ctx, 'GET', path, what, { timeoutMs })
  try {
    return JSON.parse(res.body) as unknown
  } catch {
    throw new PluginError(
      `${e.base} answered ${path} with something that is not JSON: is it RabbitMQ's management API? (${ENABLE_HINT})`,
    )
  }
}

const definitionsPath = (vhost?: string) =>
  vhost === undefined ? '/definitions' : vhostPath('/definitions', vhost)

/** The definitions of one vhost (GET /api/definitions/<vhost>), or of the whole broker. */
export async function fetchDefinitions(
  e: RabbitEndpoint,
  ctx: PluginContext,
  vhost?: string,
): Promise<Record<string, unknown>> {
  const path = definitionsPath(vhost)
  const defs = await getJson(e, ctx, path, 'export definitions', DEFINITIONS_TIMEOUT_MS)
  if (!defs || typeof defs !== 'object' || Array.isArray(defs)) {
    throw new PluginError(`${e.base}/api${path} did not answer with definitions`)
  }
  return defs as Record<string, unknown>
}

/** Imports definitions into one vhost (POST /api/definitions/<vhost>), or into the broker. */
export async function postDefinitions(
  e: RabbitEndpoint,
  ctx: PluginContext,
  defs: Record<string, unknown>,
  vhost?: string,
): Promise<void> {
  await request(e, ctx, 'POST', definitionsPath(vhost), 'import the definitions', {
    body: JSON.stringify(defs),
    timeoutMs: DEFINITIONS_TIMEOUT_MS,
  })
}

/** The broker's version, checking on the way that it is a management API that lets the user in. */
export async function brokerVersion(e: RabbitEndpoint, ctx: PluginContext): Promise<string> {
  const overview = (await getJson(e, ctx, '/overview', 'log in')) as Record<string, unknown>
  const version = overview?.rabbitmq_version
  if (typeof version !== 'string') {
    throw new PluginError(`${e.base}/api/overview does not look like RabbitMQ's management API`)
  }
  return version
}

/** The names of the broker's vhosts, sorted. */
export async function vhostNames(e: RabbitEndpoint, ctx: PluginContext): Promise<string[]> {
  const list = (await getJson(e, ctx, '/vhosts?columns=name', 'list vhosts')) as {
    name: string
  }[]
  return list.map((v) => v.name).sort()
}

/** True when the vhost exists on the broker. */
export async function vhostExists(
  e: RabbitEndpoint,
  ctx: PluginContext,
  vhost: string,
): Promise<boolean> {
  const res = await request(e, ctx, 'GET', vhostPath('/vhosts', vhost), 'look up vhosts', {
    allow: [404],
  })
  return res.status !== 404
}

/** The permanent error for a vhost the broker does not have, listing the ones it has. */
export async function noSuchVhost(
  e: RabbitEndpoint,
  ctx: PluginContext,
  vhost: string,
): Promise<PluginError> {
  const names = await vhostNames(e, ctx).catch(() => [] as string[])
  const has = names.length ? ` (it has ${names.map(quoteVhost).join(', ')})` : ''
  return new PluginError(
    `vhost ${quoteVhost(vhost)} does not exist on RabbitMQ at ${e.base}${has}; check the field vhost`,
  )
}
