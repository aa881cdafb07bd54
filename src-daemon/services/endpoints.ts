// Endpoints are the plugin-specific connection settings of a target or store.
// Here they are parsed (JSON string or object), checked against the plugin's
// field schema, split into plain and secret parts, and redacted for reads.
import {
  BulwarkError,
  ErrorCode,
  REDACTED,
  invalid,
  type FieldSpec,
  type PluginInfo,
} from '../contract'
import type { SecretStore } from '../platform/secrets'

export type EndpointValues = Record<string, unknown>

export function parseEndpoint(raw: unknown): EndpointValues {
  let value = raw
  if (typeof raw === 'string') {
    try {
      value = raw.trim() === '' ? {} : JSON.parse(raw)
    } catch {
      throw invalid(
        'endpoint',
        'endpoint is not valid JSON; send an object such as {"path":"/var/backups"}',
      )
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('endpoint', 'endpoint must be a JSON object, such as {"path":"/var/backups"}')
  }
  return value as EndpointValues
}

function describe(field: FieldSpec): string {
  const parts = [field.help, field.example ? `e.g. ${field.example}` : undefined].filter(Boolean)
  return parts.length ? ` (${parts.join('; ')})` : ''
}

function coerce(field: FieldSpec, value: unknown, path: string): unknown {
  // A secret's value is never echoed, whatever its type.
  const got = field.secret
    ? `a ${Array.isArray(value) ? 'list' : typeof value}`
    : JSON.stringify(value)
  const bad = (expected: string) =>
    invalid(path, `${path} must be ${expected}, got ${got}${describe(field)}`)
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw bad('a string')
      if (field.format === 'absolute-path' && value !== '' && !value.startsWith('/'))
        throw bad('an absolute path (starting with /)')
      return value
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad('a whole number')
      if (field.min !== undefined && n < field.min) throw bad(`at least ${field.min}`)
      if (field.max !== undefined && n > field.max) throw bad(`at most ${field.max}`)
      return n
    }
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true'
      if (typeof value !== 'boolean') throw bad('true or false')
      return value
    case 'enum':
      if (typeof value !== 'string' || !(field.values ?? []).includes(value)) {
        throw bad(`one of ${(field.values ?? []).join(', ')}`)
      }
      return value
    case 'list':
      if (typeof value === 'string') return value === '' ? [] : [value]
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw bad('a list of strings')
      }
      return value
  }
}

/**
 * Checks values against the plugin's fields and fills in defaults. A secret
 * sent as REDACTED (or left out) keeps the one already stored, if any.
 */
export function checkEndpoint(
  plugin: PluginInfo,
  values: EndpointValues,
  storedSecret: (field: string) => string | undefined = () => undefined,
): EndpointValues {
  const known = new Map(plugin.fields.map((f) => [f.name, f]))
  // External plugins without a field schema take any keys, as in SHIELD.
  const open = plugin.capabilities.includes('any-endpoint')
  for (const key of Object.keys(values)) {
    if (!known.has(key) && !open) {
      const names = plugin.fields.map((f) => f.name).join(', ') || '(none)'
      throw invalid(
        `endpoint.${key}`,
        `unknown field "${key}" for the ${plugin.name} plugin; its fields are: ${names}`,
      )
    }
  }
  const out: EndpointValues = {}
  if (open) for (const [key, value] of Object.entries(values)) if (!known.has(key)) out[key] = value
  for (const field of plugin.fields) {
    const path = `endpoint.${field.name}`
    const waived = field.required_unless !== undefined && isTrue(values[field.required_unless])
    const required = field.required === true && !waived
    let value = values[field.name]
    if (field.secret && (value === undefined || value === REDACTED))
      value = storedSecret(field.name)
    if (value === undefined || value === null || (value === '' && field.type !== 'string')) {
      if (required) {
        throw invalid(path, `${path} is required by the ${plugin.name} plugin${describe(field)}`)
      }
      if (field.default !== undefined) out[field.name] = field.default
      continue
    }
    if (required && value === '') {
      throw invalid(path, `${path} is required by the ${plugin.name} plugin${describe(field)}`)
    }
    out[field.name] = coerce(field, value, path)
  }
  // A mode's own settings are dropped while another mode is chosen; one given
  // a value of its own then is refused, rather than silently ignored.
  for (const field of plugin.fields) {
    const when = field.only_when
    if (!when || out[when.field] === when.value) continue
    const value = out[field.name]
    if (value !== undefined && value !== '' && value !== field.default) {
      const path = `endpoint.${field.name}`
      throw invalid(
        path,
        `${path} is only used when ${when.field} is ${when.value}: clear it, or set ${when.field} to ${when.value}`,
      )
    }
    delete out[field.name]
  }
  return out
}

const isTrue = (v: unknown) => v === true || v === 'true'

const secretKey = (owner: string, field: string) => `${owner}/${field}`

/** Saves secret fields to the secret store and returns what the catalog keeps. */
export function storeEndpoint(
  plugin: PluginInfo,
  owner: string,
  values: EndpointValues,
  secrets: SecretStore,
): string {
  const plain: EndpointValues = {}
  const secret = new Set(plugin.fields.filter((f) => f.secret).map((f) => f.name))
  for (const [key, value] of Object.entries(values)) if (!secret.has(key)) plain[key] = value
  for (const field of plugin.fields) {
    const value = values[field.name]
    if (value === undefined) continue
    if (field.secret) {
      if (value === '') secrets.delete(secretKey(owner, field.name))
      else secrets.set(secretKey(owner, field.name), String(value))
    } else {
      plain[field.name] = value
    }
  }
  return JSON.stringify(plain)
}

export function storedSecretReader(owner: string, secrets: SecretStore) {
  return (field: string) => secrets.get(secretKey(owner, field))
}

/** The endpoint as a read shows it: secrets that are set appear as REDACTED. */
export function redactedEndpoint(
  plugin: PluginInfo | undefined,
  owner: string,
  stored: string,
  secrets: SecretStore,
): string {
  const plain = parseStored(stored)
  if (!plugin) return JSON.stringify(plain)
  const out: EndpointValues = {}
  for (const field of plugin.fields) {
    if (field.secret) {
      if (secrets.get(secretKey(owner, field.name)) !== undefined) out[field.name] = REDACTED
    } else if (plain[field.name] !== undefined) {
      out[field.name] = plain[field.name]
    }
  }
  const known = new Set(plugin.fields.map((f) => f.name))
  for (const [key, value] of Object.entries(plain)) if (!known.has(key)) out[key] = value
  return JSON.stringify(out)
}

/** The endpoint as a plugin needs it, secrets included. Never serve this. */
export function resolvedEndpoint(
  plugin: PluginInfo | undefined,
  owner: string,
  stored: string,
  secrets: SecretStore,
): EndpointValues {
  const values = parseStored(stored)
  for (const field of plugin?.fields ?? []) {
    const secret = field.secret ? secrets.get(secretKey(owner, field.name)) : undefined
    if (secret !== undefined) values[field.name] = secret
  }
  return values
}

export function forgetSecrets(owner: string, secrets: SecretStore): void {
  secrets.deletePrefix(`${owner}/`)
}

function parseStored(stored: string): EndpointValues {
  try {
    return JSON.parse(stored) as EndpointValues
  } catch {
    throw new BulwarkError(ErrorCode.Internal, 'a stored endpoint is not valid JSON')
  }
}
