// A restore: the archive streams out of its store, through a byte counter,
// into the target's restore. Progress is known because the size is.
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ByteCounter, formatBytes, formatRate } from './progress'
import { TaskFailure, type TaskHandler } from './env'

export const runRestore: TaskHandler = async (task, ctx, env) => {
  const archive = task.archive_uuid ? env.catalog.archives.get(task.archive_uuid) : undefined
  if (!archive) throw new TaskFailure('the archive to restore no longer exists')
  if (archive.status !== 'valid')
    throw new TaskFailure(`archive ${archive.uuid} is ${archive.status}`)
  if (!task.target_uuid) throw new TaskFailure('no target to restore into')
  const target = env.target(task.target_uuid)
  const store = await env.store(archive.store_uuid)
  const targetPlugin = await env.registry.target(target.plugin)
  ctx.log(
    `restoring archive ${archive.uuid} (${formatBytes(archive.size ?? 0)}) into target ${task.target_uuid} (${target.plugin})`,
  )
  const started = env.clock.now()
  const total = archive.size && archive.size > 0 ? archive.size : null
  const counter = new ByteCounter(
    (bytes) => env.queue.progress(task.uuid, bytes, total ? Math.min(1, bytes / total) : null),
    env.clock.now,
  )
  const source = await env.archives.read(store, archive, ctx)
  const flowing = new PassThrough({ highWaterMark: 1024 * 1024 })
  const pumped = pipeline(source, counter, flowing).catch((err: Error) => {
    flowing.destroy(err)
    throw err
  })
  await Promise.all([targetPlugin.restore(target.endpoint, flowing, ctx), pumped])
  if (total !== null && counter.bytes !== total) {
    throw new TaskFailure(
      `the archive should hold ${total} bytes but the store returned ${counter.bytes}`,
    )
  }
  env.catalog.tasks.update(task.uuid, { bytes: counter.bytes })
  const elapsed = env.clock.now() - started
  ctx.log(
    `restored ${formatBytes(counter.bytes)} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(counter.bytes, elapsed)})`,
  )
}
