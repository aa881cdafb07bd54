// Parses and checks what an external plugin prints for `info`: the seed's
// name / author / version / features, plus Bulwark's optional extensions
// (`summary`, `features.test`, `fields`, `secret_fields`). Throws an Error whose
// message says what is wrong, for the discovery log.
import type { FieldSpec, FieldType, PluginInfo, PluginKind } from '../contract'

const FIELD_TYPES: readonly FieldType[] = ['string', 'integer', 'boolean', 'enum', 'list']
const FIELD_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

export interface ParsedInfo {
  title: string
  author: string
  version: string
  summary?: string
  kinds: PluginKind[]
  /** features.test is "yes": the plugin implements the `test` action. */
  test: boolean
  /** Declared endpoint schema per kind; null when the plugin declares none. */
  fields: Record<PluginKind, FieldSpec[] | null>
  secretFields: string[]
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function text(o: Obj, key: string, where: string, required: boolean): string | undefined {
  const v = o[key]
  if (v === undefined && !required) return undefined
  if (typeof v !== 'string' || v.trim() === '') {
    throw new Error(`${where}${key} must be a non-empty string`)
  }
  return v.trim()
}

/** The seed says "yes" / "no"; JSON booleans are accepted too. */
function yes(features: Obj, key: string): boolean {
  const v = features[key]
  if (v === undefined || v === 'no' || v === false) return false
  if (v === 'yes' || v === true) return true
  throw new Error(`features.${key} must be "yes" or "no"`)
}

function field(raw: unknown, where: string): FieldSpec {
  if (!isObj(raw)) throw new Error(`${where} must be an object`)
  const name = text(raw, 'name', `${where}.`, true)!
  if (!FIELD_NAME.test(name)) throw new Error(`${where}.name "${name}" is not a valid key`)
  const type = raw.type ?? 'string'
  if (!FIELD_TYPES.includes(type as FieldType)) {
    throw new Error(`${where}.type must be one of ${FIELD_TYPES.join(', ')}`)
  }
  const spec: FieldSpec = {
    name,
    title: text(raw, 'title', `${where}.`, false) ?? name,
    type: type as FieldType,
  }
  for (const flag of ['required', 'secret'] as const) {
    const v = raw[flag]
    if (v === undefined) continue
    if (typeof v !== 'boolean') throw new Error(`${where}.${flag} must be true or false`)
    spec[flag] = v
  }
  for (const key of ['help', 'example'] as const) {
    const v = raw[key]
    if (v === undefined) continue
    if (typeof v !== 'string') throw new Error(`${where}.${key} must be a string`)
    spec[key] = v
  }
  for (const key of ['min', 'max'] as const) {
    const v = raw[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`${where}.${key} must be a number`)
    spec[key] = v
  }
  if (raw.values !== undefined) spec.values = strings(raw.values, `${where}.values`)
  if (type === 'enum' && !spec.values?.length) throw new Error(`${where} is an enum without values`)
  const d = raw.default
  if (d !== undefined) {
    if (Array.isArray(d)) spec.default = strings(d, `${where}.default`)
    else if (['string', 'number', 'boolean'].includes(typeof d))
      spec.default = d as string | number | boolean
    else throw new Error(`${where}.default must be a string, number, boolean or list of strings`)
  }
  return spec
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new Error(`${where} must be a list of strings`)
  }
  return v
}

function fieldList(raw: unknown, where: string): FieldSpec[] {
  if (!Array.isArray(raw)) throw new Error(`${where} must be a list of fields`)
  const list = raw.map((f, i) => field(f, `${where}[${i}]`))
  const seen = new Set<string>()
  for (const f of list) {
    if (seen.has(f.name)) throw new Error(`${where} declares "${f.name}" twice`)
    seen.add(f.name)
  }
  return list
}

/** `fields` is a list (for every kind the plugin offers) or {"target": [...], "store": [...]}. */
function fieldsByKind(raw: unknown): Record<PluginKind, FieldSpec[] | null> {
  if (raw === undefined) return { target: null, store: null }
  if (Array.isArray(raw)) {
    const list = fieldList(raw, 'fields')
    return { target: list, store: list }
  }
  if (!isObj(raw)) throw new Error('fields must be a list, or an object with target / store lists')
  return {
    target: raw.target === undefined ? null : fieldList(raw.target, 'fields.target'),
    store: raw.store === undefined ? null : fieldList(raw.store, 'fields.store'),
  }
}

export function parseInfo(stdout: string): ParsedInfo {
  let raw: unknown
  try {
    raw = JSON.parse(stdout)
  } catch (err) {
    const got = stdout.trim() ? `: ${(err as Error).message}` : ' (it printed nothing)'
    throw new Error(`info did not print valid JSON${got}`, { cause: err })
  }
  if (!isObj(raw)) throw new Error('info must print a JSON object')
  if (!isObj(raw.features)) throw new Error('info has no "features" object')
  const kinds = (['target', 'store'] as const).filter((k) => yes(raw.features as Obj, k))
  if (kinds.length === 0) throw new Error('features say it is neither a target nor a store')
  const secretFields =
    raw.secret_fields === undefined ? [] : strings(raw.secret_fields, 'secret_fields')
  return {
    title: text(raw, 'name', '', true)!,
    author: text(raw, 'author', '', false) ?? 'unknown',
    version: text(raw, 'version', '', true)!,
    summary: text(raw, 'summary', '', false),
    kinds,
    test: yes(raw.features, 'test'),
    fields: fieldsByKind(raw.fields),
    secretFields,
  }
}

/**
 * The registry entry for one kind. With a declared schema, `fields` is that
 * schema (keys in secret_fields are marked secret too). Without one the
 * plugin gets the 'any-endpoint' capability: the daemon accepts any keys, and
 * `fields` lists only the keys named in secret_fields, as secret strings;
 * every other value is treated as not secret.
 */
export function toPluginInfo(
  name: string,
  exe: string,
  parsed: ParsedInfo,
  kind: PluginKind,
): PluginInfo {
  const secret = new Set(parsed.secretFields)
  const declared = parsed.fields[kind]
  const fields: FieldSpec[] = declared
    ? declared.map((f) => (secret.has(f.name) ? { ...f, secret: true } : f))
    : parsed.secretFields.map((n) => ({ name: n, title: n, type: 'string', secret: true }))
  return {
    name,
    kind,
    title: parsed.title,
    version: parsed.version,
    author: parsed.author,
    summary: parsed.summary ?? `External ${kind} plugin (${exe})`,
    source: 'external',
    fields,
    capabilities: declared ? [] : ['any-endpoint'],
  }
}
