// The rules a store's endpoint obeys beyond its field schema: where it keeps
// its objects (two stores may not share a place), what the plugin is handed
// (not the daemon's own vault password), and how the vault password may be
// given (once, at creation; changed only by the change-password flow).
import { posix } from 'node:path'
import {
  MAX_VAULT_PASSWORD,
  MIN_VAULT_PASSWORD,
  REDACTED,
  invalid,
  type PluginInfo,
} from '../contract'
import { whereFields } from '../plugin-host/location'
import { VAULT_PASSWORD_FIELD } from '../plugin-host/registry'
import type { EndpointValues } from './endpoints'

/** What a plugin call gets of an endpoint: all but the daemon's own fields (a store's vault password). */
export function pluginEndpoint(values: EndpointValues): EndpointValues {
  const { [VAULT_PASSWORD_FIELD.name]: _vault, ...endpoint } = values
  return endpoint
}

/** Where a store keeps its objects: its location fields (or every plain field), normalized. */
export function locationOf(plugin: PluginInfo, values: EndpointValues): string | undefined {
  const fields = whereFields(plugin.fields)
  // A plugin with no field to tell places apart: nothing to compare.
  if (fields.length === 0) return undefined
  const norm = (v: unknown) => {
    if (typeof v !== 'string') return v ?? null
    const t = v.trim()
    if (t.startsWith('/')) return posix.normalize(t).replace(/(.)\/+$/, '$1')
    return t.replace(/\/+$/, '').replace(/^\/+/, '')
  }
  return JSON.stringify(fields.map((f) => [f.name, norm(values[f.name])]))
}

export function checkNewVaultPassword(value: unknown): void {
  if (value === undefined || value === '') return
  const field = `endpoint.${VAULT_PASSWORD_FIELD.name}`
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`)
  if (value.length < MIN_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at least ${MIN_VAULT_PASSWORD} characters long`)
  }
  if (value.length > MAX_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at most ${MAX_VAULT_PASSWORD} characters long`)
  }
}

/**
 * A vault password is changed through the change-password flow (which asks
 * for the current one), never by editing the store: a password that does not
 * open the vault would lock every backup out of it.
 */
export function refuseVaultPasswordChange(
  uuid: string,
  given: EndpointValues,
  stored: ((field: string) => string | undefined) | undefined,
): void {
  const name = VAULT_PASSWORD_FIELD.name
  const value = given[name]
  if (value === undefined || value === REDACTED) return
  // No password kept yet (no vault opened with one): giving the first one is fine.
  if (stored?.(name) === undefined) return checkNewVaultPassword(value)
  if (typeof value === 'string' && value !== '' && stored?.(name) === value) return
  throw invalid(
    `endpoint.${name}`,
    `the vault password is not changed by editing the store: use POST /v1/store/${uuid}/vault/password with the current password and the new one (bulwark vault change-password STORE, or Stores → Vault → Change password in the UI)`,
  )
}
