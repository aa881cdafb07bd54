// Verify: reads every chunk of an archive back from its store and
// authenticates it. An archive is marked invalid only for damage verify has
// proven (a manifest or chunk missing from the store, or one that does not
// authenticate), never because the vault could not be opened (a wrong
// password) or the store failed for a while: those fail the task and leave
// the archive as it was. A chunk found missing or damaged is forgotten by the
// chunk index, so the next backup that needs it uploads it again.
import { isDamage } from '../vault/objects'
import { formatBytes } from './progress'
import { TaskFailure, type TaskHandler } from './env'

/** How often a running verify's bytes are written to the catalog, at most. */
const PROGRESS_EVERY_MS = 500

export const runVerify: TaskHandler = async (task, ctx, env) => {
  const archive = task.archive_uuid ? env.catalog.archives.get(task.archive_uuid) : undefined
  if (!archive) throw new TaskFailure('the archive to verify no longer exists')
  if (archive.status === 'purged') throw new TaskFailure(`archive ${archive.uuid} was purged`)
  const store = await env.vault.store(archive.store_uuid)
  // The bytes read from the store, live (as a backup's are) and kept when the
  // verify fails or is canceled; once it succeeds, the archive's bytes checked.
  let read = 0
  let reported = 0
  const onRead = (bytes: number) => {
    read = bytes
    const now = env.clock.now()
    if (now - reported < PROGRESS_EVERY_MS) return
    reported = now
    env.queue.progress(task.uuid, bytes, null)
  }
  try {
    const { chunks, bytes } = await env.vault.verify(store, archive, ctx, onRead)
    env.catalog.tasks.update(task.uuid, { bytes })
    ctx.log(
      `archive ${archive.uuid} is intact: ${chunks} chunk(s), ${formatBytes(bytes)} read back and authenticated`,
    )
    if (archive.status === 'invalid') env.catalog.archives.update(archive.uuid, { status: 'valid' })
  } catch (err) {
    if (read > 0) env.catalog.tasks.update(task.uuid, { bytes: read })
    if (ctx.signal.aborted || !isDamage(err) || !err.key) throw err
    env.catalog.archives.update(archive.uuid, { status: 'invalid' })
    ctx.log(`archive ${archive.uuid} marked invalid: ${err.message}`)
    throw err
  }
}
