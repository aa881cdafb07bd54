// What a store's vault holds, read from the store alone: every chunk with
// its stored size and every manifest the master key opens. Knows nothing of
// the catalog; import and rescan (record.ts) compare it with the catalog.
import { mapLimit } from '../../platform/concurrency'
import type { MasterKey } from '../keys'
import {
  CHUNKS_PREFIX,
  MANIFESTS_PREFIX,
  VaultError,
  parseChunkKey,
  parseManifestKey,
  type Manifest,
} from '../objects'
import { readManifest } from '../reader'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { StoreHandle } from '../archives/types'

/** Manifests opened at once. */
const SCAN_CONCURRENCY = 4

/** What an import keeps of one manifest. */
export interface ScannedArchive {
  uuid: string
  job: { uuid: string; name: string } | null
  target: Manifest['target']
  takenAt: number
  expiresAt: number
  size: number
  format: 'vault' | 'tree'
  notes: string
  chunkCount: number
  storedBytes: number
  /** Chunks the manifest lists that the store does not hold. */
  missing: number
}

export interface Scan {
  archives: ScannedArchive[]
  /** Manifests that exist but could not be opened. */
  damaged: { uuid: string; message: string }[]
  /** Every chunk in the store, with its stored size. */
  chunks: Map<string, number>
}

/** Every chunk (with its stored size) and every readable manifest of the store. */
export async function scanStore(
  store: StoreHandle,
  master: MasterKey,
  ctx: PluginContext,
): Promise<Scan> {
  const chunks = new Map<string, number>()
  for await (const obj of store.plugin.list(store.endpoint, CHUNKS_PREFIX, ctx)) {
    const id = parseChunkKey(obj.key)
    if (id) chunks.set(id, obj.size)
  }
  const uuids: string[] = []
  for await (const obj of store.plugin.list(store.endpoint, MANIFESTS_PREFIX, ctx)) {
    const id = parseManifestKey(obj.key)
    if (id) uuids.push(id)
  }
  const archives: ScannedArchive[] = []
  const damaged: Scan['damaged'] = []
  await mapLimit(uuids, SCAN_CONCURRENCY, async (archiveUuid) => {
    try {
      const m = await readManifest({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx,
        master,
        archiveUuid,
      })
      archives.push(summarize(m, chunks))
    } catch (err) {
      if (!(err instanceof VaultError)) throw err
      // Deleted since it was listed (a purge): not damage.
      if (err.code !== 'missing') damaged.push({ uuid: archiveUuid, message: err.message })
    }
  })
  archives.sort((a, b) => a.takenAt - b.takenAt || a.uuid.localeCompare(b.uuid))
  return { archives, damaged, chunks }
}

function summarize(m: Manifest, chunks: ReadonlyMap<string, number>): ScannedArchive {
  let storedBytes = 0
  let missing = 0
  for (const id of new Set(m.chunks.map((c) => c[0]))) {
    const size = chunks.get(id)
    if (size === undefined) missing++
    else storedBytes += size
  }
  return {
    uuid: m.archive,
    job: m.job,
    target: m.target,
    takenAt: Date.parse(m.taken_at),
    expiresAt: Date.parse(m.expires_at),
    // A tree archive's size is its files' bytes, as the backup recorded it.
    size: m.tree ? m.tree.bytes : m.size,
    format: m.tree ? 'tree' : 'vault',
    notes: m.notes,
    chunkCount: m.chunks.length,
    storedBytes,
    missing,
  }
}
