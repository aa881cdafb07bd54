// Endpoint configuration from the command line: --endpoint JSON as the base,
// then --set key=value pairs, typed by the plugin's field schema (integers,
// booleans, lists) so `--set port=5432` sends a number.
import { ApiError, type BulwarkClient } from '../client'
import { REDACTED, type FieldSpec, type PluginInfo } from '../contract'
import { UsageError, didYouMean } from './errors'

export type EndpointObject = Record<string, unknown>

export function parseEndpointJson(text: string, command: string): EndpointObject {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(
      `--endpoint is not valid JSON (${(err as Error).message}); ` +
        `quote it for the shell: --endpoint '{"path":"/srv/backups"}', or use --set key=value`,
      command,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--endpoint must be a JSON object, like {"path":"/srv/backups"}', command)
  }
  return value as EndpointObject
}

/** An endpoint string from the API, as an object (secrets stay as REDACTED). */
export function parseStoredEndpoint(text: string): EndpointObject {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as EndpointObject
    }
  } catch {
    // fall through: an endpoint that is not a JSON object cannot be merged
  }
  return {}
}

export function splitSet(item: string, command: string): [string, string] {
  const eq = item.indexOf('=')
  if (eq <= 0) {
    throw new UsageError(`--set needs KEY=VALUE (got "${item}")`, command)
  }
  return [item.slice(0, eq).trim(), item.slice(eq + 1)]
}

const TRUE = ['true', 'yes', 'y', 'on', '1', 't']
const FALSE = ['false', 'no', 'n', 'off', '0', 'f']

/** A --set value typed by its field; values without a known field stay strings. */
export function coerceValue(field: FieldSpec | undefined, raw: string, command: string): unknown {
  if (!field || raw === REDACTED) return raw
  const where = `--set ${field.name}`
  switch (field.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) {
        throw new UsageError(`${where}: "${raw}" is not a whole number`, command)
      }
      return Number(raw)
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase()
      if (TRUE.includes(v)) return true
      if (FALSE.includes(v)) return false
      throw new UsageError(`${where}: "${raw}" is not true or false`, command)
    }
    case 'list': {
      if (raw.trim().startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(raw)
          if (Array.isArray(parsed)) return parsed
        } catch {
          // not JSON: split on commas below
        }
      }
      return raw === '' ? [] : raw.split(',').map((s) => s.trim())
    }
    default:
      return raw
  }
}

/** The plugin's manifest, or null when it is not installed (the daemon will say so). */
export async function fetchPlugin(client: BulwarkClient, name: string): Promise<PluginInfo | null> {
  try {
    return await client.getPlugin(name)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

/**
 * base (from --endpoint or the stored endpoint) + --set pairs − --unset keys.
 * Unknown keys are refused with a suggestion when the plugin's fields are known.
 */
export function applySets(
  base: EndpointObject,
  sets: readonly string[],
  unsets: readonly string[],
  plugin: PluginInfo | null,
  command: string,
): EndpointObject {
  const result: EndpointObject = { ...base }
  const fields = plugin?.fields ?? []
  const fieldNames = fields.map((f) => f.name)
  const check = (key: string, flag: string) => {
    if (plugin && !fieldNames.includes(key)) {
      const known = fieldNames.length ? ` (its fields: ${fieldNames.join(', ')})` : ''
      throw new UsageError(
        `${flag} ${key}: plugin "${plugin.name}" has no field "${key}"${didYouMean(key, fieldNames)}${
          didYouMean(key, fieldNames) ? '' : known
        }`,
        command,
      )
    }
  }
  for (const item of sets) {
    const [key, raw] = splitSet(item, command)
    check(key, '--set')
    result[key] = coerceValue(
      fields.find((f) => f.name === key),
      raw,
      command,
    )
  }
  for (const key of unsets) {
    check(key, '--unset')
    delete result[key]
  }
  return result
}
