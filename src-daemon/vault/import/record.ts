// What a scan found, written into the catalog: a row for each archive the
// catalog lacks, purged rows for archives whose manifest is gone, and a
// chunk index that matches the store. Run inside a catalog transaction.
import type { Catalog } from '../../catalog/catalog'
import { manifestKey } from '../objects'
import { isVaultFormat, type StoreChunkIndex } from '../archives/types'
import type { Scan } from './scan'

/**
 * An archive whose job has a backup into this store running is left out:
 * that backup may be the one writing it, and it inserts its own row.
 */
export function recordScan(
  catalog: Catalog,
  index: StoreChunkIndex,
  storeUuid: string,
  scan: Scan,
  now: number,
): { added: string[]; gone: string[] } {
  const busy = catalog.runningBackupJobs(storeUuid)
  const added: string[] = []
  for (const a of scan.archives) {
    if (catalog.archives.get(a.uuid)) continue
    if (a.job && busy.has(a.job.uuid)) continue
    catalog.archives.insert({
      uuid: a.uuid,
      job_uuid: a.job && catalog.jobs.get(a.job.uuid) ? a.job.uuid : null,
      target_uuid: a.target.uuid,
      store_uuid: storeUuid,
      store_key: manifestKey(a.uuid),
      taken_at: a.takenAt,
      expires_at: a.expiresAt,
      notes: a.notes,
      status: a.missing > 0 ? 'invalid' : a.expiresAt <= now ? 'expired' : 'valid',
      target_plugin: a.target.plugin,
      size: a.size,
      purged_at: null,
      format: a.format,
      new_bytes: null,
      stored_bytes: a.storedBytes,
      chunk_count: a.chunkCount,
      origin_target_name: a.target.name,
      origin_target_location: a.target.location ?? null,
    })
    added.push(a.uuid)
  }
  // The other way: an archive the catalog lists whose manifest the store no
  // longer holds was deleted (by another daemon sharing the store, or by
  // hand). It is marked purged rather than left listed as restorable.
  const present = new Set([...scan.archives.map((a) => a.uuid), ...scan.damaged.map((d) => d.uuid)])
  const gone: string[] = []
  for (const row of catalog.listArchives({ store_uuid: storeUuid })) {
    if (!isVaultFormat(row.format) || row.status === 'purged' || present.has(row.uuid)) continue
    if (row.job_uuid && busy.has(row.job_uuid)) continue
    catalog.archives.update(row.uuid, { status: 'purged', purged_at: now })
    gone.push(row.uuid)
  }
  index.sync(scan.chunks)
  // Matched against a fresh listing; the next writer still checks the store's epoch.
  index.clearEpoch()
  return { added, gone }
}
