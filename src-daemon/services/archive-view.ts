// An archive as the API shows it: the catalog's row with its store's and
// target's names and endpoints (secrets redacted), and what made it.
import type { ArchiveListRow } from '../catalog/catalog'
import type { Archive } from '../contract'
import { toIso } from '../platform/clock'
import type { PluginResourceService } from './plugin-resources'

/**
 * Views of archives, one list at a time: each store's and target's redacted
 * endpoint is worked out once per list (a list of 10,000 archives names a
 * handful of them), not once per archive.
 */
export function archiveViewer(
  targets: PluginResourceService<'target'>,
  stores: PluginResourceService<'store'>,
): (r: ArchiveListRow) => Archive {
  const seen = new Map<string, string>()
  const once = (key: string, redact: () => string) => {
    let v = seen.get(key)
    if (v === undefined) seen.set(key, (v = redact()))
    return v
  }
  return (r) => ({
    uuid: r.uuid,
    job_uuid: r.job_uuid,
    store_key: r.store_key,
    taken_at: toIso(r.taken_at),
    expires_at: toIso(r.expires_at),
    notes: r.notes,
    status: r.status,
    size: r.size,
    store_uuid: r.store_uuid,
    store_name: r.store_name,
    store_plugin: r.store_plugin,
    store_endpoint:
      r.store_plugin === null || r.store_endpoint === null
        ? null
        : once(`s/${r.store_uuid}`, () =>
            stores.redacted({
              uuid: r.store_uuid,
              plugin: r.store_plugin!,
              endpoint: r.store_endpoint!,
            }),
          ),
    target_uuid: r.target_uuid,
    target_name: r.target_name,
    target_plugin: r.target_plugin || r.target_current_plugin,
    target_endpoint:
      r.target_current_plugin === null || r.target_endpoint === null
        ? null
        : once(`t/${r.target_uuid}`, () =>
            targets.redacted({
              uuid: r.target_uuid,
              plugin: r.target_current_plugin!,
              endpoint: r.target_endpoint!,
            }),
          ),
    format: r.format ?? 'plain',
    new_bytes: r.new_bytes ?? null,
    stored_bytes: r.stored_bytes ?? null,
    chunk_count: r.chunk_count ?? null,
    origin_target_name: r.origin_target_name ?? null,
    origin_target_location: r.origin_target_location || null,
  })
}
