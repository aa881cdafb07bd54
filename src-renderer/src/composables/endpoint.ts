// Endpoint values for a plugin's field schema: defaults for a new one, the
// stored (redacted) values for an edit, what to send, and what is missing.
import { REDACTED, type FieldSpec } from '../../../src-daemon/contract'

export type FieldValue = string | number | boolean | string[] | null
export type EndpointModel = Record<string, FieldValue>

export function emptyValue(f: FieldSpec): FieldValue {
  if (f.default !== undefined) return Array.isArray(f.default) ? [...f.default] : f.default
  if (f.type === 'boolean') return false
  if (f.type === 'list') return []
  if (f.type === 'integer') return null
  return ''
}

/** A fresh form for a plugin: every field at its default. */
export function newModel(fields: FieldSpec[]): EndpointModel {
  return Object.fromEntries(fields.map((f) => [f.name, emptyValue(f)]))
}

/** A form for an existing endpoint (JSON as the API serves it, secrets redacted). */
export function modelFrom(fields: FieldSpec[], endpoint: string): EndpointModel {
  let stored: Record<string, unknown> = {}
  try {
    const parsed: unknown = JSON.parse(endpoint)
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>
  } catch {
    // an endpoint the daemon could not parse shows as empty fields
  }
  const model = newModel(fields)
  for (const f of fields) {
    const v = stored[f.name]
    if (v === undefined || v === null) continue
    if (f.type === 'list') model[f.name] = Array.isArray(v) ? v.map(String) : [String(v)]
    else if (f.type === 'integer') model[f.name] = typeof v === 'number' ? v : Number(v)
    else if (f.type === 'boolean') model[f.name] = v === true || v === 'true'
    else model[f.name] = String(v)
  }
  return model
}

/** The endpoint to send: empty optional fields left out so the plugin's defaults apply. */
export function toEndpoint(fields: FieldSpec[], model: EndpointModel): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    if (!applies(f, fields, model)) continue
    const v = model[f.name]
    if (v === null || v === undefined) continue
    if (typeof v === 'string' && v === '' && f.type !== 'boolean') continue
    if (f.type === 'list' && Array.isArray(v) && v.length === 0 && !f.required) continue
    out[f.name] = v
  }
  return out
}

/** Whether a field is in use: one with only_when only while that other field has that value. */
export function applies(f: FieldSpec, fields: FieldSpec[], model: EndpointModel): boolean {
  const when = f.only_when
  if (!when) return true
  const v = model[when.field]
  const chosen =
    v === undefined || v === null || v === ''
      ? fields.find((x) => x.name === when.field)?.default
      : v
  return chosen === when.value
}

export function isRequired(f: FieldSpec, model: EndpointModel): boolean {
  if (!f.required) return false
  return !(f.required_unless && model[f.required_unless] === true)
}

/** Client-side checks before the daemon's own: field name → message. */
export function missingFields(fields: FieldSpec[], model: EndpointModel): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const f of fields) {
    const v = model[f.name]
    const empty =
      v === null ||
      v === undefined ||
      (typeof v === 'string' && v.trim() === '') ||
      (Array.isArray(v) && v.length === 0)
    if (empty && isRequired(f, model)) errors[f.name] = `${f.title} is required`
    if (typeof v === 'number') {
      if (f.min !== undefined && v < f.min) errors[f.name] = `${f.title} must be at least ${f.min}`
      if (f.max !== undefined && v > f.max) errors[f.name] = `${f.title} must be at most ${f.max}`
    }
  }
  return errors
}

export const isRedacted = (v: FieldValue): boolean => v === REDACTED
