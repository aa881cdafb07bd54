// Where a target or store points, as one line a person reads: its non-secret
// endpoint fields that say where (a path, a host and port, a database, a
// bucket), in the plugin's field order. Kept with each archive (in the catalog
// and the manifest), so "what was backed up" survives the target's deletion
// and a disaster-recovery import.
import { VAULT_PASSWORD, type PluginInfo } from '../contract'

/** Field names that never say where (options, tuning, credentials' names). */
const NOT_WHERE =
  /^(user|username|password|timeout|connect_timeout|exclude|.*_options?|options|all_databases|exclude_databases|absolute_ttl|compression)$/

/**
 * The fields that can say where: those the plugin marks as its location, else
 * all of them; never a secret, nor the vault password.
 */
export function whereFields<F extends { name: string; secret?: boolean; location?: boolean }>(
  fields: F[],
): F[] {
  const marked = fields.filter((f) => f.location)
  return (marked.length > 0 ? marked : fields).filter((f) => !f.secret && f.name !== VAULT_PASSWORD)
}

/** "host 127.0.0.1, port 5432, database orders"; '' when nothing says where. */
export function describeLocation(
  info: Pick<PluginInfo, 'fields'> | undefined,
  values: Record<string, unknown>,
): string {
  const fields = info?.fields ?? Object.keys(values).map((name) => ({ name }))
  const parts: string[] = []
  for (const f of whereFields<{ name: string; secret?: boolean; location?: boolean }>(fields)) {
    if (NOT_WHERE.test(f.name)) continue
    const v = values[f.name]
    if (typeof v === 'string' && v.trim() !== '') parts.push(`${f.name} ${v.trim()}`)
    else if (typeof v === 'number') parts.push(`${f.name} ${v}`)
  }
  return parts.join(', ').slice(0, 500)
}
