// The email channel: an HTML and plain-text message sent through SMTP
// (nodemailer), and SMTP's failures turned into errors a person can act on.
import nodemailer from 'nodemailer'
import type { Notice } from '../contract/notifications'
import { isFalse, list, str } from './channel-settings'
import { escapeHtml, NOTICE_COLOURS, noticeLink, plainText } from './render'
import {
  DEFAULT_TIMEOUT_MS,
  oneLine,
  SendError,
  type SendOptions,
  type SendResult,
} from './send-shared'

function emailHtml(n: Notice): string {
  const link = noticeLink(n)
  const body = n.body
    .split('\n')
    .map((l) => escapeHtml(l))
    .join('<br>\n')
  return [
    `<!doctype html><html><body style="font-family: sans-serif">`,
    `<h2 style="color: #${NOTICE_COLOURS[n.severity].toString(16).padStart(6, '0')}">${escapeHtml(n.title)}</h2>`,
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

export async function sendEmail(
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
