// A backup of a directory target as a tree archive (vault/tree-writer.ts),
// in the backup task's vault session. The previous tree of the same job in
// the same store (its newest valid tree archive) lets unchanged files be
// reused without reading them, unless this run reads everything: asked for
// (full_read), or due by the target's reread_every (the manifest's tags
// count the runs since the last full read).
import type { TreeSpec } from '../../plugins/sdk/types'
import type { ArchiveRow } from '../catalog/rows'
import { writeTree } from '../vault/tree-writer'
import type { TreeRecord } from '../vault/tree'
import type { TaskEnv } from './env'
import { formatBytes } from './progress'
import {
  manifestHead,
  type NewArchive,
  type StoreHandle,
  type VaultSession,
  type WrittenArchive,
} from '../vault/archives'

/** Manifest tag: backups since the last one that read every file ("0" for that one). */
export const SINCE_FULL_READ_TAG = 'bulwark.since_full_read'

export interface TreeBackupOptions {
  fullRead: boolean
  onProgress(bytes: number, files: number): void
}

/** The newest valid tree archive of the job in the store, if any. */
function previousArchive(env: TaskEnv, job: string, store: string): ArchiveRow | undefined {
  return env.catalog
    .listArchives({ job_uuid: job, store_uuid: store, status: 'valid' })
    .find((a) => a.format === 'tree')
}

const n = (x: number) => x.toLocaleString('en-US')

export async function writeTreeArchive(
  env: TaskEnv,
  store: StoreHandle,
  archive: NewArchive,
  spec: TreeSpec,
  session: VaultSession,
  opts: TreeBackupOptions,
): Promise<WrittenArchive> {
  const ctx = session.ctx
  let previous: TreeRecord[] | undefined
  let since = 0
  const prev = archive.job ? previousArchive(env, archive.job.uuid, store.uuid) : undefined
  if (prev) {
    try {
      const { manifest, records } = await env.vault.loadTree(store, prev, session)
      previous = records
      since = Number(manifest.tags[SINCE_FULL_READ_TAG] ?? 0) || 0
    } catch (err) {
      if (ctx.signal.aborted) throw err
      ctx.log(
        `the previous archive ${prev.uuid} could not be read (${(err as Error).message}); every file is read`,
      )
    }
  }
  let fullRead = opts.fullRead
  if (opts.fullRead) ctx.log('reading every file (full read asked for)')
  else if (previous && spec.rereadEvery > 0 && since + 1 >= spec.rereadEvery) {
    fullRead = true
    ctx.log(
      `reading every file (reread_every ${spec.rereadEvery}: ${since + 1} run(s) since the last full read)`,
    )
  }
  const stats = await writeTree({
    store: store.plugin,
    endpoint: store.endpoint,
    ctx,
    config: session.config,
    master: session.master,
    index: session.index,
    walk: { root: spec.root, exclude: spec.exclude, oneFileSystem: spec.oneFileSystem },
    previous,
    fullRead,
    onProgress: opts.onProgress,
    manifest: manifestHead(archive, store.uuid, {
      [SINCE_FULL_READ_TAG]: String(fullRead || !previous ? 0 : since + 1),
    }),
  })
  ctx.log(
    `${n(stats.files)} files: ${n(stats.reused)} unchanged (reused), ${n(stats.read)} read, ${n(stats.added)} new; ${n(stats.entries)} entries, ${formatBytes(stats.readBytes)} read of ${formatBytes(stats.bytes)}`,
  )
  return {
    key: stats.manifestKey,
    format: 'tree',
    size: stats.bytes,
    newBytes: stats.newBytes,
    storedBytes: stats.storedBytes,
    chunks: stats.chunks,
  }
}
