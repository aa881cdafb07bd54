// A backup: the target's stream flows through a byte counter into the store
// (no temporary copy). The archive row is written only after the store has
// confirmed every byte, so a failed or canceled backup is never listed.
import { randomUUID } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { PassThrough } from 'node:stream'
import { toIso } from '../platform/clock'
import { ByteCounter, formatBytes, formatRate } from './progress'
import { TaskFailure, type TaskHandler } from './env'

export const runBackup: TaskHandler = async (task, ctx, env) => {
  const job = task.job_uuid ? env.catalog.jobs.get(task.job_uuid) : undefined
  if (!job) throw new TaskFailure('the job of this backup no longer exists')
  const retention = env.catalog.retention.get(job.retention_uuid)
  if (!retention) throw new TaskFailure('the job has no retention policy')
  const target = env.endpoint('target', job.target_uuid)
  const store = env.endpoint('store', job.store_uuid)
  const targetPlugin = await env.registry.target(target.plugin)
  const storePlugin = await env.registry.store(store.plugin)
  const archiveUuid = randomUUID()
  const takenAt = env.clock.now()
  const stamp = toIso(takenAt)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const key = `${job.target_uuid}/${stamp}-${archiveUuid}`
  ctx.log(
    `backing up target ${job.target_uuid} (${target.plugin}) to store ${job.store_uuid} (${store.plugin})`,
  )

  const counter = new ByteCounter(
    (bytes) => env.queue.progress(task.uuid, bytes, null),
    env.clock.now,
  )
  const source = await targetPlugin.backup(target.endpoint, ctx)
  const flowing = new PassThrough({ highWaterMark: 1024 * 1024 })
  // The store consumes `flowing`; the pipeline carries the target's errors into it.
  const pumped = pipeline(source, counter, flowing).catch((err: Error) => {
    flowing.destroy(err)
    throw err
  })
  let stored
  try {
    ;[stored] = await Promise.all([
      env.archives.write(storePlugin, store.endpoint, key, flowing, ctx),
      pumped,
    ])
  } catch (err) {
    // The store contract says nothing is left on failure; make sure anyway.
    await env.archives
      .remove(storePlugin, store.endpoint, key, { ...ctx, signal: new AbortController().signal })
      .catch(() => undefined)
    throw err
  }
  const elapsed = env.clock.now() - takenAt
  env.catalog.transaction(() => {
    env.catalog.archives.insert({
      uuid: archiveUuid,
      job_uuid: job.uuid,
      target_uuid: job.target_uuid,
      store_uuid: job.store_uuid,
      store_key: stored.key,
      taken_at: takenAt,
      expires_at: takenAt + retention.expiry * 1000,
      notes: '',
      status: 'valid',
      target_plugin: target.plugin,
      size: counter.bytes,
      purged_at: null,
    })
    env.catalog.tasks.update(task.uuid, { archive_uuid: archiveUuid, bytes: counter.bytes })
  })
  ctx.log(
    `archive ${archiveUuid} stored as ${stored.key}: ${formatBytes(counter.bytes)} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(counter.bytes, elapsed)}); expires ${toIso(takenAt + retention.expiry * 1000)}`,
  )
}
