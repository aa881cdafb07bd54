// What every sender shares: the result and error types, scrubbing the
// channel's secret values out of any text that leaves (it ends up in delivery
// records and the UI), and the one HTTP request every HTTP kind goes through.
import type { ChannelKind } from '../contract/notifications'
import { headerList, parseUrl, str } from './channel-settings'
import { CHANNEL_KIND_INFO } from './kinds'
import { truncate } from './render'

export class SendError extends Error {
  constructor(
    message: string,
    /** True when trying again later may work (network, timeout, 429, 5xx). */
    readonly retryable: boolean,
  ) {
    super(message)
    this.name = 'SendError'
  }
}

export interface SendResult {
  /** The receiver's HTTP status (the SMTP reply code for email); null when there is none. */
  status: number | null
  /** What the receiver answered, without secrets. */
  detail: string
  /** True when this kind does not send this event (healthchecks: anything but backups). */
  skipped?: boolean
}

export interface SendOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

export const DEFAULT_TIMEOUT_MS = 15_000
const REDACTED_TEXT = '<redacted>'

// ---- scrubbing -------------------------------------------------------------

/** Everything secret in a channel's settings, in each form it might be echoed in. */
export function secretValues(kind: ChannelKind, settings: Record<string, unknown>): string[] {
  const found = new Set<string>()
  const add = (v: string): void => {
    if (!v) return
    found.add(v)
    found.add(encodeURIComponent(v))
    const u = parseUrl(v)
    if (!u || !u.host) return
    // A URL may come back normalised, or only its path and query: they hold the token.
    found.add(u.href)
    if (u.pathname.length > 1) found.add(u.pathname + u.search)
    // Token-like path segments (not words like "services" or "webhooks").
    for (const seg of u.pathname.split('/'))
      if (seg.length >= 8 && /[0-9A-Z_-]/.test(seg)) found.add(seg)
    for (const value of u.searchParams.values()) if (value.length >= 8) found.add(value)
    if (u.password) found.add(u.password)
  }
  for (const f of CHANNEL_KIND_INFO[kind].fields) {
    const v = settings[f.name]
    if (!f.secret) {
      // Not secret as a setting, but a password written into a URL still is.
      const u = typeof v === 'string' ? parseUrl(v) : null
      if (u?.password) {
        found.add(u.password)
        found.add(decodeURIComponent(u.password))
      }
      continue
    }
    const items = f.type === 'list' ? headerList(v) : [str(v)]
    for (const item of items) {
      add(item)
      // A "Name: value" header: the value alone may be echoed, and so may its
      // last word (the token of "Bearer <token>").
      const colon = item.indexOf(':')
      if (f.type === 'list' && colon > 0) {
        const value = item.slice(colon + 1).trim()
        add(value)
        const last = value.split(/\s+/).pop() ?? ''
        if (last.length >= 6) add(last)
      }
    }
  }
  found.delete('')
  // Longest first, so a URL is replaced whole before its token is.
  return [...found].sort((a, b) => b.length - a.length)
}

export type Scrub = (text: string) => string

export function makeScrub(secrets: string[]): Scrub {
  return (text) => {
    let out = text
    for (const s of secrets) out = out.split(s).join(REDACTED_TEXT)
    return out
  }
}

// ---- HTTP ------------------------------------------------------------------

export interface HttpRequest {
  /** Who answers, for messages: "Slack", "The webhook". */
  who: string
  url: string
  method?: string
  headers?: Record<string, string>
  /** A JSON body (sent as application/json) or text. */
  json?: unknown
  text?: string
  /** What to suggest when the receiver refuses (a 4xx). */
  hint: string
}

const MAX_DETAIL = 300

export function oneLine(text: string): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), MAX_DETAIL)
}

/** The words of receivers that answer errors as JSON: { description | message | error ... }. */
function receiverWords(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>
    for (const k of ['description', 'errorDescription', 'error_description', 'message', 'error'])
      if (typeof j[k] === 'string' && j[k]) return j[k] as string
  } catch {
    // not JSON: the body as it is
  }
  return body
}

/** A network error's most specific words: fetch hides the cause behind "fetch failed". */
function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } } | undefined
  const cause = e?.cause
  if (cause?.message)
    return cause.code && !cause.message.includes(cause.code)
      ? `${cause.code}: ${cause.message}`
      : cause.message
  return e?.message ?? String(err)
}

/** Enough of an answer for a message; a receiver cannot make us hold megabytes. */
async function readCapped(res: Response, max = 64 * 1024): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
    if (size >= max) {
      await reader.cancel()
      break
    }
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8')
}

export async function httpSend(
  req: HttpRequest,
  opts: SendOptions,
  scrub: Scrub,
): Promise<SendResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
  const headers: Record<string, string> = { 'user-agent': 'Bulwark' }
  if (req.json !== undefined) headers['content-type'] = 'application/json'
  else if (req.text !== undefined) headers['content-type'] = 'text/plain; charset=utf-8'
  let res: Response
  let body: string
  try {
    res = await fetch(req.url, {
      method: req.method ?? 'POST',
      headers: { ...headers, ...req.headers },
      body: req.json !== undefined ? JSON.stringify(req.json) : req.text,
      signal,
      // A redirect could carry secret headers to another host: report it instead.
      redirect: 'manual',
    })
    body = await readCapped(res)
  } catch (err) {
    if (timeout.aborted)
      throw new SendError(
        `${req.who} did not answer within ${Math.round(timeoutMs / 100) / 10} s`,
        true,
      )
    if (opts.signal?.aborted) throw new SendError(`Sending to ${req.who} was cancelled`, true)
    throw new SendError(scrub(`Could not reach ${req.who}: ${networkReason(err)}`), true)
  }
  const words = oneLine(scrub(receiverWords(body)))
  const answered = `${req.who} answered ${res.status}${words ? `: ${words}` : ''}`
  if (res.ok) {
    // A success's JSON (a message id, the message echoed) is noise in a delivery record.
    const plain = words && !/^[[{]/.test(body.trim()) ? `: ${truncate(words, 80)}` : ''
    return { status: res.status, detail: `${req.who} answered ${res.status}${plain}` }
  }
  if (res.status >= 300 && res.status < 400) {
    const to = res.headers.get('location')
    throw new SendError(
      scrub(
        `${req.who} answered ${res.status}, redirecting${to ? ` to ${to}` : ''} — put the final URL in the settings`,
      ),
      false,
    )
  }
  if (res.status === 429 || res.status >= 500) throw new SendError(answered, true)
  throw new SendError(`${answered} — ${req.hint}`, false)
}
