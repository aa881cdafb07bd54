// Verify: reads every chunk of an archive back from its store and
// authenticates it. A damaged archive is marked invalid, so it is never
// restored as if it were whole.
import { formatBytes } from './progress'
import { TaskFailure, type TaskHandler } from './env'

export const runVerify: TaskHandler = async (task, ctx, env) => {
  const archive = task.archive_uuid ? env.catalog.archives.get(task.archive_uuid) : undefined
  if (!archive) throw new TaskFailure('the archive to verify no longer exists')
  if (archive.status === 'purged') throw new TaskFailure(`archive ${archive.uuid} was purged`)
  const store = await env.store(archive.store_uuid)
  try {
    const { chunks, bytes } = await env.archives.verify(store, archive, ctx)
    ctx.log(
      `archive ${archive.uuid} is intact: ${chunks} chunk(s), ${formatBytes(bytes)} read back and authenticated`,
    )
    if (archive.status === 'invalid') env.catalog.archives.update(archive.uuid, { status: 'valid' })
  } catch (err) {
    if (ctx.signal.aborted) throw err
    env.catalog.archives.update(archive.uuid, { status: 'invalid' })
    ctx.log(`archive ${archive.uuid} marked invalid`)
    throw err
  }
}
