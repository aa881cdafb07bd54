// A restore of a tree archive (vault/tree-restore.ts): the whole tree or the
// paths the task was given, into the target's directory or the task's `to`,
// under a shared store lock, each chunk fetched once and authenticated.
import type { ArchiveRow, TaskRow } from '../catalog/rows'
import type { PluginContext } from '../../plugins/sdk/types'
import { opener } from '../vault/reader'
import { ChunkCache, readTreeManifest } from '../vault/tree-read'
import { restoreTree } from '../vault/tree-restore'
import { TaskFailure, type TaskEnv } from './env'
import { formatBytes, formatRate } from './progress'
import { taskParams, type RestoreParams } from './task-params'

export async function runTreeRestore(
  task: TaskRow,
  archive: ArchiveRow,
  ctx: PluginContext,
  env: TaskEnv,
): Promise<void> {
  const target = env.target(task.target_uuid!)
  const plugin = await env.registry.target(target.plugin)
  if (!plugin.tree) {
    throw new TaskFailure(`the ${target.plugin} plugin cannot restore a directory (tree) archive`)
  }
  const params = taskParams<RestoreParams>(task)
  const spec = await plugin.tree(target.endpoint, ctx, 'restore')
  const dest = params.to ?? spec.root
  const store = await env.vault.store(archive.store_uuid)
  const what = params.paths?.length ? `${params.paths.length} path(s) of archive` : 'archive'
  ctx.log(
    `restoring ${what} ${archive.uuid} into ${dest} (conflicts: ${params.conflict ?? 'refuse'})`,
  )
  const started = env.clock.now()
  let reported = 0
  // Usually read already (and kept) when the restore's paths were checked.
  const records = await env.vault.readTree(store, archive, ctx)
  const result = await env.vault.withSession(
    store,
    ctx,
    { operation: 'restore', exclusive: false },
    async (session) => {
      const opts = env.vault.readOptions(store, archive, session)
      const chunks = opener(opts)
      try {
        // The directory's own metadata is in the manifest, not among the records.
        const { root } = (await readTreeManifest(opts)).tree!
        return await restoreTree({
          root,
          records,
          paths: params.paths,
          dest,
          conflict: params.conflict ?? 'refuse',
          cache: new ChunkCache(opts, chunks),
          ctx: session.ctx,
          now: env.clock.now(),
          owners: process.getuid?.() === 0,
          onProgress: (bytes) => {
            const now = env.clock.now()
            if (now - reported < 500) return
            reported = now
            env.queue.progress(task.uuid, bytes, null)
          },
        })
      } catch (err) {
        env.vault.forgetDamaged(store.uuid, err, ctx)
        throw err
      } finally {
        await chunks.close()
      }
    },
  )
  env.catalog.tasks.update(task.uuid, { bytes: result.bytes })
  const elapsed = env.clock.now() - started
  const extra = [
    result.replaced ? `${result.replaced} replaced` : '',
    result.kept ? `${result.kept} written beside existing ones (keep-both)` : '',
  ].filter(Boolean)
  ctx.log(
    `restored ${result.entries} entries (${result.files} files, ${formatBytes(result.bytes)}) into ${dest} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(result.bytes, elapsed)})${extra.length ? `; ${extra.join(', ')}` : ''}`,
  )
}
