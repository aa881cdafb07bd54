// A purge: removes an expired archive's data from its store and marks it purged.
import type { TaskHandler } from './env'
import { isVaultFormat } from '../vault/archives'

export const runPurge: TaskHandler = async (task, ctx, env) => {
  const archive = task.archive_uuid ? env.catalog.archives.get(task.archive_uuid) : undefined
  if (!archive) {
    ctx.log('the archive is already gone from the catalog; nothing to purge')
    return
  }
  if (archive.status === 'purged') {
    ctx.log(`archive ${archive.uuid} was already purged`)
    return
  }
  if (env.catalog.stores.get(archive.store_uuid)) {
    const store = await env.vault.store(archive.store_uuid)
    await env.vault.remove(store, archive, ctx)
    ctx.log(`removed ${archive.store_key} from store ${archive.store_uuid}`)
    // A vault archive's chunks are freed by garbage collection.
    if (isVaultFormat(archive.format) && !env.catalog.tasks.hasActive('gc', archive.store_uuid)) {
      env.queue.enqueue({ op: 'gc', owner: 'system', priority: 95, store_uuid: archive.store_uuid })
    }
  } else {
    ctx.log(`store ${archive.store_uuid} was deleted; its data cannot be removed from here`)
  }
  env.catalog.archives.update(archive.uuid, { status: 'purged', purged_at: env.clock.now() })
}
