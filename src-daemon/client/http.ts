// The HTTP layer of the client: requests with the token, timeouts, the
// daemon's error bodies turned into ApiError, pages of list routes, and the
// helpers for query strings and downloads' file names. Browser-safe.
import { ApiError, apiErrorFrom, DaemonUnreachableError } from './errors'

export interface ClientOptions {
  /** Base URL of the daemon, e.g. http://127.0.0.1:7411 (with or without /v1). */
  url: string
  token?: string
  fetch?: typeof fetch
  /** Give up on a request (not the event stream) after this long; default 30 s. */
  timeoutMs?: number
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** A page of a list route: its rows, the total matching, and the next page's cursor (null: last). */
export interface ListPage<T> {
  items: T[]
  total: number
  next: string | null
}

/** The file name of a Content-Disposition header, without any directory part. */
export function dispositionFilename(header: string | null): string | null {
  if (!header) return null
  let name: string | undefined
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  if (extended?.[2]) {
    try {
      name = decodeURIComponent(extended[2].trim())
    } catch {
      name = undefined
    }
  }
  if (name === undefined) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header)
    name = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]
  }
  const base = name
    ?.split(/[\\/]/)
    .pop()
    // eslint-disable-next-line no-control-regex
    ?.replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
  return base && base !== '.' && base !== '..' ? base : null
}

export function queryString(query: object | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    params.set(key, typeof value === 'boolean' ? (value ? 't' : 'f') : String(value))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

export const seg = (s: string) => encodeURIComponent(s)

/** The plumbing every route method of BulwarkClient shares. */
export class HttpClient {
  readonly baseUrl: string
  private readonly token: string | undefined
  private readonly fetchImpl: typeof fetch
  private readonly timeoutMs: number

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.url.replace(/\/+$/, '').replace(/\/v1$/, '')
    this.token = opts.token
    // Wrapped so a browser's fetch is never called with a foreign `this`.
    const f = opts.fetch
    this.fetchImpl = f ? (input, init) => f(input, init) : (input, init) => fetch(input, init)
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  private headers(body: boolean, accept: string): Record<string, string> {
    const h: Record<string, string> = { accept }
    if (body) h['content-type'] = 'application/json'
    if (this.token) h.authorization = `Bearer ${this.token}`
    return h
  }

  protected async send(
    method: HttpMethod,
    path: string,
    body: unknown,
    accept: string,
    signal?: AbortSignal,
    stream = false,
    timeoutMs = this.timeoutMs,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const url = `${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`
    const headers = { ...this.headers(body !== undefined, accept), ...extraHeaders }
    const init: RequestInit = { method, headers }
    if (body !== undefined) init.body = JSON.stringify(body)
    const timeout = signal || stream ? undefined : AbortSignal.timeout(timeoutMs)
    init.signal = signal ?? timeout ?? null
    let res: Response
    try {
      res = await this.fetchImpl(url, init)
    } catch (err) {
      if (signal?.aborted) throw err
      if (timeout?.aborted) {
        throw new DaemonUnreachableError(this.baseUrl, `no answer within ${timeoutMs} ms`, {
          cause: err,
        })
      }
      throw new DaemonUnreachableError(this.baseUrl, describeNetworkError(err), { cause: err })
    }
    if (!res.ok) throw apiErrorFrom(res.status, res.statusText, await readBody(res))
    return res
  }

  /** Any /v1 call: JSON in, JSON out; throws ApiError on a non-2xx answer. */
  async request<T>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    const res = await this.send(
      method,
      path,
      body,
      'application/json',
      undefined,
      false,
      opts.timeoutMs,
    )
    return (await readBody(res)) as T
  }

  async requestText(method: HttpMethod, path: string): Promise<string> {
    const res = await this.send(method, path, undefined, 'text/plain, */*')
    return res.text()
  }

  /** A list route's page: the array body, X-Total-Count and X-Next-Cursor. */
  async requestPage<T>(path: string): Promise<ListPage<T>> {
    const res = await this.send('GET', path, undefined, 'application/json')
    const items = (await readBody(res)) as T[]
    const total = Number(res.headers.get('x-total-count') ?? items.length)
    return { items, total, next: res.headers.get('x-next-cursor') }
  }

  /** Every row of a list route, a page at a time, from `query`'s cursor (or the start) to the end. */
  protected async *allPages<T, Q extends { cursor?: string }>(
    path: string,
    query: Q,
    list: (path: string) => Promise<ListPage<T>> = (p) => this.requestPage<T>(p),
  ): AsyncGenerator<T> {
    let cursor = query.cursor
    for (;;) {
      const page = await list(`${path}${queryString({ ...query, cursor })}`)
      yield* page.items
      if (page.next === null) return
      cursor = page.next
    }
  }
}

export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text()
  if (!text) return undefined
  const type = res.headers.get('content-type') ?? ''
  if (type.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text)
    } catch {
      if (res.ok) throw new ApiError(res.status, 'internal', 'the daemon sent malformed JSON')
    }
  }
  return text
}

function describeNetworkError(err: unknown): string {
  // Node's fetch wraps the socket error (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (cause && typeof cause.code === 'string') return cause.code
  if (cause && typeof cause.message === 'string') return cause.message
  return err instanceof Error ? err.message : String(err)
}
