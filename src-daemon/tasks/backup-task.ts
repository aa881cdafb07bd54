// A backup: the target's stream flows through a byte counter into the store
// (through the vault for stores that hold one; never a temporary copy). The
// archive row is written only after the store has confirmed every byte, so a
// failed or canceled backup is never listed. The job's hooks run around it:
// before ones just before the target is read, after ones once the archive is
// listed, on_failure ones when it fails or is canceled (tasks/hooks.ts).
import { describeLocation } from '../plugin-host/location'
import { randomUUID } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { toIso } from '../platform/clock'
import { ByteCounter, formatBytes, formatRate } from './progress'
import type { TaskRow } from '../catalog/rows'
import type { PluginContext } from '../../plugins/sdk/types'
import { TaskFailure, type TaskEnv, type TaskHandler } from './env'
import { BackupHooks, readHooks } from './hooks'
import type { AgentLink } from '../agents/link'
import type { VaultSession, WrittenArchive } from '../vault/archives'
import { writeTreeArchive } from './tree-backup'
import { taskParams, type BackupParams } from './task-params'

export const runBackup: TaskHandler = async (task, ctx, env) => {
  const job = task.job_uuid ? env.catalog.jobs.get(task.job_uuid) : undefined
  if (!job) throw new TaskFailure('the job of this backup no longer exists')
  const targetRow = env.catalog.targets.get(job.target_uuid)
  const hooks = new BackupHooks(
    readHooks(job.hooks),
    {
      jobName: job.name,
      jobUuid: job.uuid,
      taskUuid: task.uuid,
      targetName: targetRow?.name ?? job.target_uuid,
      targetPlugin: targetRow?.plugin ?? '',
      storeName: env.catalog.stores.get(job.store_uuid)?.name ?? job.store_uuid,
    },
    ctx,
  )
  let listed: string | undefined
  try {
    listed = await backUp(task, ctx, env, hooks)
    await hooks.after(listed)
  } catch (err) {
    await hooks.onFailure(err, listed)
    throw err
  }
}

/** The backup itself; resolves with the archive's uuid once it is listed. */
async function backUp(
  task: TaskRow,
  ctx: PluginContext,
  env: TaskEnv,
  hooks: BackupHooks,
): Promise<string> {
  const job = task.job_uuid ? env.catalog.jobs.get(task.job_uuid) : undefined
  if (!job) throw new TaskFailure('the job of this backup no longer exists')
  const retention = env.catalog.retention.get(job.retention_uuid)
  if (!retention) throw new TaskFailure('the job has no retention policy')
  const targetRow = env.catalog.targets.get(job.target_uuid)
  if (!targetRow) throw new TaskFailure('the job has no target')
  const target = env.target(job.target_uuid)
  // A target on an agent runs there: waited for (its own limit) before the store is touched.
  const agent = targetRow.agent ? await agentLink(env, targetRow.agent, ctx) : undefined
  const store = await env.vault.store(job.store_uuid)
  const targetPlugin = agent
    ? agent.target(target.plugin)
    : await env.registry.target(target.plugin)
  const archiveUuid = randomUUID()
  const takenAt = env.clock.now()
  const expiresAt = takenAt + retention.expiry * 1000
  ctx.log(
    `backing up target "${targetRow.name}" (${target.plugin}${agent ? ` on agent "${agent.name}"` : ''}) to store ${job.store_uuid}${store.vault ? ' (vault)' : ''}`,
  )

  const archive = {
    uuid: archiveUuid,
    takenAt,
    expiresAt,
    target: {
      uuid: targetRow.uuid,
      name: targetRow.name,
      plugin: targetRow.plugin,
      location: describeLocation(
        env.registry.find('target', targetRow.plugin),
        JSON.parse(targetRow.endpoint) as Record<string, unknown>,
      ),
    },
    job: { uuid: job.uuid, name: job.name },
  }
  const counter = new ByteCounter(
    (bytes) => env.queue.progress(task.uuid, bytes, null),
    env.clock.now,
  )
  /** Runs the target's dump into the store; both sides settle before it returns. */
  const transfer = async (session?: VaultSession): Promise<WrittenArchive> => {
    const tctx = session?.ctx ?? ctx
    await hooks.before(tctx)
    const source = await targetPlugin.backup(target.endpoint, tctx)
    const flowing = new PassThrough({ highWaterMark: 1024 * 1024 })
    // The store consumes `flowing`; the pipeline carries the target's errors into it.
    const pumped = pipeline(source, counter, flowing).catch((err: Error) => {
      flowing.destroy(err)
      throw err
    })
    // Both must settle before the task ends (a canceled backup is over only when
    // the writer has stopped too); the first failure is the one reported, as it
    // is the cause (a store failing stops the target, and the reverse).
    let first: { reason: unknown } | undefined
    const noteFailure = (err: unknown) => {
      first ??= { reason: err }
      // Whichever side failed, the other must not wait for it forever.
      source.destroy(err as Error)
      flowing.destroy(err as Error)
      throw err
    }
    const [writing] = await Promise.allSettled([
      env.vault.write(store, archive, flowing, tctx, session).catch(noteFailure),
      pumped.catch(noteFailure),
    ])
    if (first) throw first.reason
    return (writing as PromiseFulfilledResult<WrittenArchive>).value
  }
  /** A directory target into a vault: a tree archive, the daemon walking the directory. */
  const walk = async (session: VaultSession): Promise<WrittenArchive> => {
    await hooks.before(session.ctx)
    const spec = await targetPlugin.tree!(target.endpoint, session.ctx, 'backup')
    let reported = 0
    const written = await writeTreeArchive(env, store, archive, spec, session, {
      fullRead: taskParams<BackupParams>(task).full_read === true,
      // The bytes read from files, at most twice a second (as ByteCounter does for streams).
      onProgress: (bytes) => {
        const now = env.clock.now()
        if (now - reported < 500) return
        reported = now
        env.queue.progress(task.uuid, bytes, null)
      },
    })
    // The archive's size is its files' bytes, whether read or reused.
    counter.bytes = written.size
    return written
  }
  /** A target on an agent into a vault: the agent sends only the chunks the vault lacks. */
  const fromAgent = async (session: VaultSession): Promise<WrittenArchive> => {
    await hooks.before(session.ctx)
    let reported = 0
    const chunks = agent!.chunks(
      target.plugin,
      target.endpoint,
      { params: session.config.chunking, idKey: session.master.idKey },
      session.ctx,
      (bytes) => {
        const now = env.clock.now()
        if (now - reported < 500) return
        reported = now
        env.queue.progress(task.uuid, bytes, null)
      },
    )
    const written = await env.vault.write(store, archive, chunks, session.ctx, session)
    counter.bytes = written.size
    return written
  }
  // A vault is opened (or created) and locked before the dump starts, so a
  // vault that cannot be opened fails the task at once, saying why.
  const written = store.vault
    ? await env.vault.withSession(
        store,
        ctx,
        { operation: 'backup', exclusive: false, create: true, syncIndex: true },
        agent ? fromAgent : targetPlugin.tree ? walk : transfer,
      )
    : await transfer()
  const elapsed = env.clock.now() - takenAt
  env.catalog.transaction(() => {
    env.catalog.archives.insert({
      uuid: archiveUuid,
      job_uuid: job.uuid,
      target_uuid: job.target_uuid,
      store_uuid: job.store_uuid,
      store_key: written.key,
      taken_at: takenAt,
      expires_at: expiresAt,
      notes: '',
      status: 'valid',
      target_plugin: target.plugin,
      origin_target_name: archive.target.name,
      origin_target_location: archive.target.location,
      size: counter.bytes,
      purged_at: null,
      format: written.format,
      new_bytes: written.newBytes,
      stored_bytes: written.storedBytes,
      chunk_count: written.chunks,
    })
    env.catalog.tasks.update(task.uuid, { archive_uuid: archiveUuid, bytes: counter.bytes })
  })
  const added =
    written.format === 'vault' || written.format === 'tree'
      ? `, ${formatBytes(written.newBytes)} new in the store (${written.chunks} chunks)`
      : ''
  ctx.log(
    `archive ${archiveUuid} stored as ${written.key}: ${formatBytes(counter.bytes)} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(counter.bytes, elapsed)})${added}; expires ${toIso(expiresAt)}`,
  )
  return archiveUuid
}

/** The connected agent a target runs on (waiting for it, as linkFor says). */
export async function agentLink(
  env: TaskEnv,
  agent: string,
  ctx: PluginContext,
): Promise<AgentLink> {
  if (!env.agents) throw new TaskFailure('this daemon does not run remote agents')
  return env.agents.linkFor(agent, ctx)
}
