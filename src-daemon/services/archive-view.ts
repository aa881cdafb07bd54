// An archive as the API shows it: the catalog's row with its store's and
// target's names and endpoints (secrets redacted), and what made it.
import type { ArchiveListRow } from '../catalog/catalog'
import type { Archive } from '../contract'
import { toIso } from '../platform/clock'
import type { PluginResourceService } from './plugin-resources'

export function archiveView(
  r: ArchiveListRow,
  targets: PluginResourceService<'target'>,
  stores: PluginResourceService<'store'>,
): Archive {
  return {
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
        : stores.redacted({
            uuid: r.store_uuid,
            plugin: r.store_plugin,
            endpoint: r.store_endpoint,
          }),
    target_uuid: r.target_uuid,
    target_name: r.target_name,
    target_plugin: r.target_plugin || r.target_current_plugin,
    target_endpoint:
      r.target_current_plugin === null || r.target_endpoint === null
        ? null
        : targets.redacted({
            uuid: r.target_uuid,
            plugin: r.target_current_plugin,
            endpoint: r.target_endpoint,
          }),
    format: r.format ?? 'plain',
    new_bytes: r.new_bytes ?? null,
    stored_bytes: r.stored_bytes ?? null,
    chunk_count: r.chunk_count ?? null,
    origin_target_name: r.origin_target_name ?? null,
    origin_target_location: r.origin_target_location || null,
  }
}
