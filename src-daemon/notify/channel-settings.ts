// A channel's settings as the senders read them: lists and headers kept as
// text, defaults filled in, and the checks beyond the field specs that the
// channel service runs before saving (a webhook body that is not JSON, a URL
// that is not http(s)).
import type { ChannelKind } from '../contract/notifications'
import { CHANNEL_KIND_INFO } from './kinds'
import { renderTemplate, SAMPLE_NOTICE, unknownPlaceholders } from './render'

export const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)

export function list(v: unknown): string[] {
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
export const headerList = (v: unknown): string[] =>
  list(v).flatMap((e) => e.split(/,(?=\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+:)/).map((x) => x.trim()))

export const isFalse = (v: unknown): boolean => v === false || v === 'false'

/** Settings with each field's default filled in where the value is missing or empty. */
export function withDefaults(
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

export function parseUrl(v: string): URL | null {
  try {
    return new URL(v)
  } catch {
    return null
  }
}

export function isHttpUrl(v: string): boolean {
  const u = parseUrl(v)
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:')
}

/** "Name: value" entries as a header record; `bad` is the index of the first malformed one. */
export function parseHeaders(entries: string[]): {
  headers: Record<string, string>
  bad: number | null
} {
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
