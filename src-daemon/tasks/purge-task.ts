// A purge: removes expired archives' data from their store and marks them
// purged. One archive (a delete by hand, or the only one retention expired in
// that store), or retention's whole list for one store in one pass: the store
// is opened once, manifests are deleted a few at a time, and one GC follows.
import { mapLimit } from '../platform/concurrency'
import type { ArchiveRow } from '../catalog/rows'
import { isVaultFormat } from '../vault/archives'
import { TaskFailure, type TaskHandler } from './env'
import { taskParams, type PurgeParams } from './task-params'

/** Deletes at once: the store's requests overlap, the API stays answered. */
const PURGE_CONCURRENCY = 8

export const runPurge: TaskHandler = async (task, ctx, env) => {
  const uuids = taskParams<PurgeParams>(task).archives ?? [task.archive_uuid].filter(Boolean)
  const archives: ArchiveRow[] = []
  for (const uuid of uuids as string[]) {
    const archive = env.catalog.archives.get(uuid)
    if (!archive) ctx.log(`archive ${uuid} is already gone from the catalog; nothing to purge`)
    else if (archive.status === 'purged') ctx.log(`archive ${uuid} was already purged`)
    else archives.push(archive)
  }
  if (archives.length === 0) return
  const storeUuid = archives[0]!.store_uuid
  const purged = (archive: ArchiveRow) =>
    env.catalog.archives.update(archive.uuid, { status: 'purged', purged_at: env.clock.now() })
  if (!env.catalog.stores.get(storeUuid)) {
    ctx.log(
      `store ${storeUuid} was deleted; the data of ${archives.length} archive(s) cannot be removed from here`,
    )
    for (const archive of archives) purged(archive)
    return
  }
  const store = await env.vault.store(storeUuid)
  const failed: string[] = []
  await mapLimit(
    archives,
    PURGE_CONCURRENCY,
    async (archive) => {
      try {
        await env.vault.remove(store, archive, ctx)
      } catch (err) {
        // One archive the store refuses to delete does not keep the others.
        if (ctx.signal.aborted) throw err
        failed.push(archive.uuid)
        ctx.log(`could not remove archive ${archive.uuid}: ${(err as Error).message}`)
        return
      }
      ctx.log(`removed ${archive.store_key} from store ${storeUuid}`)
      purged(archive)
    },
    ctx.signal,
  )
  if (archives.length > 1)
    ctx.log(`purged ${archives.length - failed.length} of ${archives.length} archive(s)`)
  // A vault archive's chunks are freed by garbage collection.
  if (
    archives.some((a) => isVaultFormat(a.format) && !failed.includes(a.uuid)) &&
    !env.catalog.tasks.hasActive('gc', storeUuid)
  ) {
    env.queue.enqueue({ op: 'gc', owner: 'system', priority: 95, store_uuid: storeUuid })
  }
  if (failed.length > 0) {
    throw new TaskFailure(
      `${failed.length} of ${archives.length} archive(s) could not be removed from the store and stay expired (see the log); delete them again once the store answers`,
    )
  }
}
