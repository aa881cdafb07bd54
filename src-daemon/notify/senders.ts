// Delivers one notice through one channel kind. Knows each receiver's message
// shape and how it answers; knows nothing of rules, retries or the catalog
// (the channel service wraps this: it decides what to send and retries what
// is retryable). Every text that leaves this module is scrubbed of the
// channel's secret values, since it ends up in delivery records and the UI.
import nodemailer from 'nodemailer'
import type { ChannelKind, Notice } from '../contract/notifications'
import { CHANNEL_KIND_INFO } from './kinds'
import {
  escapeHtml,
  plainText,
  renderTemplate,
  SAMPLE_NOTICE,
  truncate,
  unknownPlaceholders,
} from './render'

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

const DEFAULT_TIMEOUT_MS = 15_000
const REDACTED_TEXT = '<redacted>'

// ---- settings --------------------------------------------------------------

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(str).filter((s) => s.trim() !== '')
  if (typeof v !== 'string' || v.trim() === '') return []
  // A list kept in a secret store as one string: a JSON array, or one entry a line.
  if (v.trim().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(v)
      if (Array.isArray(parsed)) return list(parsed)
    } catch {
      // not JSON: lines
    }
  }
  return v.split(/\r?\n/).filter((s) => s.trim() !== '')
}

/**
 * "Name: value" entries. A list that went through String() arrives as
 * "A: 1,B: 2": split it again at each comma that starts a new "Name:".
 */
const headerList = (v: unknown): string[] =>
  list(v).flatMap((e) => e.split(/,(?=\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+:)/).map((x) => x.trim()))

const isFalse = (v: unknown): boolean => v === false || v === 'false'

/** Settings with each field's default filled in where the value is missing or empty. */
function withDefaults(
  kind: ChannelKind,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings }
  for (const f of CHANNEL_KIND_INFO[kind].fields) {
    const v = out[f.name]
    if ((v === undefined || v === null || v === '') && f.default !== undefined)
      out[f.name] = f.default
  }
  return out
}

function parseUrl(v: string): URL | null {
  try {
    return new URL(v)
  } catch {
    return null
  }
}

function isHttpUrl(v: string): boolean {
  const u = parseUrl(v)
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:')
}

/** "Name: value" entries as a header record; `bad` is the index of the first malformed one. */
function parseHeaders(entries: string[]): { headers: Record<string, string>; bad: number | null } {
  const headers: Record<string, string> = {}
  for (const [i, e] of entries.entries()) {
    const colon = e.indexOf(':')
    const name = colon > 0 ? e.slice(0, colon).trim() : ''
    const value = e.slice(colon + 1).trim()
    // Header values are bytes: tabs and printable Latin-1 only.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || !/^[\t\x20-\x7e\x80-\xff]*$/.test(value))
      return { headers, bad: i }
    headers[name] = value
  }
  return { headers, bad: null }
}

// ---- scrubbing -------------------------------------------------------------

/** Everything secret in a channel's settings, in each form it might be echoed in. */
function secretValues(kind: ChannelKind, settings: Record<string, unknown>): string[] {
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

type Scrub = (text: string) => string

function makeScrub(secrets: string[]): Scrub {
  return (text) => {
    let out = text
    for (const s of secrets) out = out.split(s).join(REDACTED_TEXT)
    return out
  }
}

// ---- HTTP ------------------------------------------------------------------

interface HttpRequest {
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

function oneLine(text: string): string {
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

async function httpSend(req: HttpRequest, opts: SendOptions, scrub: Scrub): Promise<SendResult> {
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

// ---- message shapes per kind -----------------------------------------------

type Builder = (s: Record<string, unknown>, n: Notice) => HttpRequest | null

const trimSlash = (u: string): string => u.replace(/\/+$/, '')
const linkOf = (n: Notice): string | null => {
  const link = n.task?.url ?? n.url ?? null
  return link && isHttpUrl(link) ? link : null
}

const COLOURS: Record<Notice['severity'], number> = {
  failure: 0xd03030,
  warning: 0xe0a000,
  recovery: 0x2ea043,
  success: 0x2ea043,
  info: 0x3b82f6,
}

/** ntfy's priorities 1–5 and Gotify's 0–10 by name; failures get at least "high". */
const NTFY_PRIORITY: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5 }
const GOTIFY_PRIORITY: Record<string, number> = { min: 0, low: 2, default: 5, high: 8, max: 10 }
function priority(table: Record<string, number>, s: Record<string, unknown>, n: Notice): number {
  const chosen = table[str(s.priority)] ?? table.default ?? 0
  return n.severity === 'failure' ? Math.max(chosen, table.high ?? 0) : chosen
}

const NTFY_TAGS: Record<Notice['severity'], string> = {
  failure: 'rotating_light',
  warning: 'warning',
  recovery: 'white_check_mark',
  success: 'white_check_mark',
  info: 'information_source',
}

/** Slack's mrkdwn treats &, < and > as markup. */
const slackEscape = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const builders: Record<Exclude<ChannelKind, 'email'>, Builder> = {
  webhook: (s, n) => {
    const template = str(s.body).trim()
    const plain = parseHeaders(headerList(s.headers)).headers
    const secret = parseHeaders(headerList(s.secret_headers)).headers
    return {
      who: 'The webhook',
      url: str(s.url),
      method: str(s.method) || 'POST',
      headers: { 'content-type': 'application/json', ...plain, ...secret },
      text: template ? renderTemplate(template, n) : JSON.stringify(n),
      hint: 'check the URL, method and headers',
    }
  },

  slack: (s, n) => {
    const link = linkOf(n)
    const lines = [`*${slackEscape(n.title)}*`]
    if (n.body) lines.push(slackEscape(n.body))
    const blocks: unknown[] = [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } },
    ]
    if (link)
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `<${link}|Open in Bulwark> · ${n.at}` }],
      })
    return {
      who: 'Slack',
      url: str(s.webhook_url),
      // text is what notifications and old clients show.
      json: { text: n.title, blocks },
      hint: 'check the webhook URL',
    }
  },

  discord: (s, n) => {
    const link = linkOf(n)
    const embed: Record<string, unknown> = {
      title: truncate(n.title, 256),
      description: truncate(n.body, 4096),
      color: COLOURS[n.severity],
      timestamp: n.at,
    }
    if (link) embed.url = link
    if (n.job) embed.footer = { text: truncate(`Job ${n.job.name}`, 2048) }
    return {
      who: 'Discord',
      url: str(s.webhook_url),
      // No pings: a job named "@everyone" must not wake a whole server.
      json: { username: 'Bulwark', allowed_mentions: { parse: [] }, embeds: [embed] },
      hint: 'check the webhook URL',
    }
  },

  teams: (s, n) => {
    const link = linkOf(n)
    const colour = { failure: 'Attention', warning: 'Warning', recovery: 'Good', success: 'Good' }
    const body: unknown[] = [
      {
        type: 'TextBlock',
        text: n.title,
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
        color: colour[n.severity as keyof typeof colour] ?? 'Default',
      },
    ]
    // Card markdown joins single line breaks: make each line a paragraph.
    if (n.body) body.push({ type: 'TextBlock', text: n.body.replace(/\n/g, '\n\n'), wrap: true })
    body.push({ type: 'TextBlock', text: n.at, isSubtle: true, size: 'Small', wrap: true })
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body,
      actions: link ? [{ type: 'Action.OpenUrl', title: 'Open in Bulwark', url: link }] : [],
    }
    return {
      who: 'Teams',
      url: str(s.webhook_url),
      // The message-with-attachments shape both Workflows and the older
      // incoming webhooks accept.
      json: {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: card,
          },
        ],
      },
      hint: 'check the webhook URL (and that the workflow is turned on)',
    }
  },

  ntfy: (s, n) => {
    const link = linkOf(n)
    const token = str(s.token)
    // JSON publishing to the server's root: UTF-8 titles, unlike headers.
    const json: Record<string, unknown> = {
      topic: str(s.topic),
      title: n.title,
      message: n.body || n.title,
      priority: priority(NTFY_PRIORITY, s, n),
      tags: [NTFY_TAGS[n.severity], 'bulwark'],
    }
    if (link) json.click = link
    return {
      who: 'ntfy',
      url: `${trimSlash(str(s.server))}/`,
      headers: token ? { authorization: `Bearer ${token}` } : undefined,
      json,
      hint: token ? 'check the topic and the access token' : 'check the topic (is it protected?)',
    }
  },

  gotify: (s, n) => {
    const link = linkOf(n)
    const extras: Record<string, unknown> = { 'client::display': { contentType: 'text/plain' } }
    if (link) extras['client::notification'] = { click: { url: link } }
    return {
      who: 'Gotify',
      url: `${trimSlash(str(s.server))}/message`,
      headers: { 'x-gotify-key': str(s.token) },
      json: {
        title: n.title,
        message: [n.body || n.title, link && !n.body.includes(link) ? link : null]
          .filter(Boolean)
          .join('\n\n'),
        priority: priority(GOTIFY_PRIORITY, s, n),
        extras,
      },
      hint: 'check the server and the application token',
    }
  },

  telegram: (s, n) => ({
    who: 'Telegram',
    url: `${trimSlash(str(s.api_url))}/bot${str(s.bot_token)}/sendMessage`,
    json: {
      chat_id: str(s.chat_id),
      text: truncate(plainText(n), 4096),
      link_preview_options: { is_disabled: true },
      disable_web_page_preview: true,
    },
    hint: 'check the bot token and the chat id (the bot must be in the chat)',
  }),

  healthchecks: (s, n) => {
    const suffix =
      n.event === 'backup.started'
        ? '/start'
        : n.event === 'backup.failed'
          ? '/fail'
          : n.event === 'backup.succeeded' || n.event === 'backup.recovered' || n.event === 'test'
            ? ''
            : null
    if (suffix === null) return null
    const u = new URL(str(s.ping_url))
    u.pathname = trimSlash(u.pathname) + suffix
    return {
      who: 'Healthchecks',
      url: u.href,
      // The body shows up as the ping's log in Healthchecks.
      text: n.event === 'backup.failed' ? n.body : n.title,
      hint: 'check the ping URL',
    }
  },
}

// ---- email -----------------------------------------------------------------

function emailHtml(n: Notice): string {
  const link = linkOf(n)
  const body = n.body
    .split('\n')
    .map((l) => escapeHtml(l))
    .join('<br>\n')
  return [
    `<!doctype html><html><body style="font-family: sans-serif">`,
    `<h2 style="color: #${COLOURS[n.severity].toString(16).padStart(6, '0')}">${escapeHtml(n.title)}</h2>`,
    body ? `<p>${body}</p>` : '',
    link ? `<p><a href="${escapeHtml(link)}">Open in Bulwark</a></p>` : '',
    `<p style="color: #888; font-size: small">${escapeHtml(n.at)}</p>`,
    `</body></html>`,
  ].join('\n')
}

interface SmtpError {
  code?: string
  responseCode?: number
  response?: string
  message?: string
}

/** Turns a nodemailer error into a SendError a person can act on. */
function smtpError(
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
  s: Record<string, unknown>,
): SendError {
  const e = (err ?? {}) as SmtpError
  const msg = e.message ?? String(err)
  const said = e.response ? `: ${oneLine(e.response)}` : ''
  if (timedOut || e.code === 'ETIMEDOUT') {
    // A server speaking TLS from the first byte waits for us as we wait for its greeting.
    const hint =
      Number(s.port) === 465 && str(s.security) !== 'tls'
        ? ' — port 465 expects security "tls"'
        : ''
    return new SendError(
      `The mail server did not answer within ${Math.round(timeoutMs / 100) / 10} s${hint}`,
      true,
    )
  }
  if (/wrong version number|packet length too long|unknown protocol/i.test(msg))
    return new SendError(
      `The mail server did not answer TLS (${oneLine(msg)}) — security "tls" is for servers speaking TLS from the first byte (port 465); for port 587 use "starttls"`,
      false,
    )
  if (/certificate|self[- ]signed|CERT_|DEPTH_ZERO/i.test(msg))
    return new SendError(
      `The mail server's TLS certificate was refused (${oneLine(msg)}) — give the server a certificate this machine trusts, or turn off "Verify TLS certificate" if you trust this server`,
      false,
    )
  if (e.code === 'EAUTH')
    return new SendError(
      `The mail server refused the login${said || `: ${oneLine(msg)}`} — check the username and password`,
      false,
    )
  if (e.code === 'ETLS' || /STARTTLS/i.test(msg))
    return new SendError(
      `TLS with the mail server failed (${oneLine(msg)}) — check the security setting (starttls for port 587, tls for 465)`,
      false,
    )
  if (e.responseCode)
    // SMTP: 4xx is "try again later", 5xx is final.
    return new SendError(
      `The mail server answered ${e.responseCode}${said || `: ${oneLine(msg)}`}${e.responseCode >= 500 ? ' — check the from and to addresses' : ''}`,
      e.responseCode < 500,
    )
  return new SendError(`Could not reach the mail server: ${oneLine(msg)}`, true)
}

async function sendEmail(
  s: Record<string, unknown>,
  n: Notice,
  opts: SendOptions,
): Promise<SendResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const security = str(s.security)
  const username = str(s.username)
  const transport = nodemailer.createTransport({
    host: str(s.host),
    port: Number(s.port),
    secure: security === 'tls',
    // starttls: refuse to send in clear if the server does not offer it;
    // none: do not upgrade even if it does.
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    auth: username ? { user: username, pass: str(s.password) } : undefined,
    tls: { rejectUnauthorized: !isFalse(s.verify_tls) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  let timedOut = false
  let cancelled = false
  // close() does not always settle a pending send: the timer and the caller
  // end the wait themselves.
  let stop: (reason: Error) => void = () => undefined
  const stopped = new Promise<never>((_, reject) => (stop = reject))
  const timer = setTimeout(() => {
    timedOut = true
    stop(new Error('timeout'))
    transport.close()
  }, timeoutMs)
  const onAbort = (): void => {
    cancelled = true
    stop(new Error('cancelled'))
    transport.close()
  }
  if (opts.signal?.aborted) onAbort()
  else opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const sending = transport.sendMail({
      from: str(s.from),
      to: list(s.to),
      subject: n.title,
      text: plainText(n),
      html: emailHtml(n),
      // Never let a message fetch a file or URL into an attachment.
      disableFileAccess: true,
      disableUrlAccess: true,
    })
    // Lost the race: its late error is already answered for.
    sending.catch(() => undefined)
    const info = (await Promise.race([sending, stopped])) as {
      response?: string
      rejected?: unknown[]
    }
    const response = oneLine(info.response ?? '')
    const code = Number.parseInt(response, 10)
    const rejected = info.rejected?.length
      ? ` (refused for ${info.rejected.length} address(es))`
      : ''
    return {
      status: Number.isFinite(code) ? code : null,
      detail: `The mail server accepted it${rejected}: ${response}`,
    }
  } catch (err) {
    if (cancelled) throw new SendError('Sending to the mail server was cancelled', true)
    throw smtpError(err, timedOut, timeoutMs, s)
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    transport.close()
  }
}

// ---- entry points ----------------------------------------------------------

/** Delivers one notice; settings are complete (secrets included). Throws SendError. */
export async function sendNotice(
  kind: ChannelKind,
  settings: Record<string, unknown>,
  notice: Notice,
  opts: SendOptions = {},
): Promise<SendResult> {
  const s = withDefaults(kind, settings)
  const scrub = makeScrub(secretValues(kind, s))
  try {
    const bad = checkSettings(kind, s)
    if (bad) throw new SendError(`${bad.field} ${bad.message}`, false)
    let result: SendResult
    if (kind === 'email') result = await sendEmail(s, notice, opts)
    else {
      const req = builders[kind](s, notice)
      if (!req)
        return {
          status: null,
          detail: `${CHANNEL_KIND_INFO[kind].title} is not told about ${notice.event}`,
          skipped: true,
        }
      result = await httpSend(req, opts, scrub)
    }
    return { ...result, detail: scrub(result.detail) }
  } catch (err) {
    if (err instanceof SendError) throw new SendError(scrub(err.message), err.retryable)
    throw new SendError(scrub(`Sending failed: ${(err as Error)?.message ?? String(err)}`), false)
  }
}

/** URL settings per kind; for most kinds the URL is the secret, so messages never echo it. */
const HTTP_FIELDS: Record<ChannelKind, string[]> = {
  webhook: ['url'],
  slack: ['webhook_url'],
  discord: ['webhook_url'],
  teams: ['webhook_url'],
  ntfy: ['server'],
  gotify: ['server'],
  telegram: ['api_url'],
  email: [],
  healthchecks: ['ping_url'],
}

/** Extra checks beyond the field specs (a body template that is not valid JSON, a URL that is not http(s)); returns null or { field, message }. */
export function checkSettings(
  kind: ChannelKind,
  settings: Record<string, unknown>,
): { field: string; message: string } | null {
  const s = withDefaults(kind, settings)
  for (const field of HTTP_FIELDS[kind]) {
    if (!isHttpUrl(str(s[field]))) return { field, message: 'must be an http:// or https:// URL' }
  }
  switch (kind) {
    case 'webhook': {
      if (parseUrl(str(s.url))?.password)
        return {
          field: 'url',
          message:
            'must not hold a password: put it in a secret header instead (Authorization: Basic …)',
        }
      for (const field of ['headers', 'secret_headers']) {
        const { bad } = parseHeaders(headerList(s[field]))
        if (bad !== null)
          return {
            field,
            message: `entry ${bad + 1} is not "Name: value" (a header name, then printable text)`,
          }
      }
      const template = str(s.body).trim()
      if (!template) return null
      const unknown = unknownPlaceholders(template)
      if (unknown.length)
        return {
          field: 'body',
          message: `has an unknown placeholder {{${unknown[0]}}}; known: {{event}}, {{severity}}, {{title}}, {{body}}, {{at}}, {{job.name}}, {{job.uuid}}, {{task.uuid}}, {{task.url}}, {{url}}, {{fields.<name>}}`,
        }
      try {
        JSON.parse(renderTemplate(template, SAMPLE_NOTICE))
      } catch (err) {
        return {
          field: 'body',
          message: `is not valid JSON once filled in (${(err as Error).message}); put each {{placeholder}} inside quotes`,
        }
      }
      return null
    }
    case 'ntfy':
      if (!/^[-_A-Za-z0-9]{1,64}$/.test(str(s.topic)))
        return { field: 'topic', message: 'must be 1–64 letters, digits, - or _' }
      return null
    case 'email': {
      if (!str(s.host).trim()) return { field: 'host', message: 'is required' }
      if (!str(s.from).includes('@'))
        return { field: 'from', message: 'must be an address, e.g. Bulwark <bulwark@example.com>' }
      const to = list(s.to)
      if (!to.length) return { field: 'to', message: 'needs at least one address' }
      const bad = to.find((a) => !a.includes('@'))
      if (bad !== undefined) return { field: 'to', message: `"${bad}" is not an email address` }
      return null
    }
    default:
      return null
  }
}
