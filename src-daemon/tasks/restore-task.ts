// A restore: the archive streams out of its store, through a byte counter,
// into the target's restore. Progress is known because the size is. Tree
// archives are restored entry by entry instead (tree-restore-task.ts).
//
// The two sides fail together. When either fails (the archive cannot be
// read, or the target refuses or breaks), the other is stopped, and the task
// ends only once both have settled: the target's own cleanup has run by then,
// and the daemon undoes whatever the target noted it created (a database,
// see restore-undo.ts). The error reported is the one that started it, not
// the other side's "aborted" or "premature close" at being stopped.
import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { RestoreUndoRepo } from '../catalog/restore-undo-repo'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import type { PluginContext } from '../../plugins/sdk/types'
import { ByteCounter, formatBytes, formatRate } from './progress'
import { TaskFailure, type TaskHandler } from './env'
import { noteCreations, undoTaskNotes } from './restore-undo'
import { runTreeRestore } from './tree-restore-task'
import { agentLink } from './backup-task'

export const runRestore: TaskHandler = async (task, ctx, env) => {
  const archive = task.archive_uuid ? env.catalog.archives.get(task.archive_uuid) : undefined
  if (!archive) throw new TaskFailure('the archive to restore no longer exists')
  if (archive.status !== 'valid')
    throw new TaskFailure(`archive ${archive.uuid} is ${archive.status}`)
  if (!task.target_uuid) throw new TaskFailure('no target to restore into')
  const agentUuid = env.catalog.targets.get(task.target_uuid)?.agent
  if (archive.format === 'tree') {
    if (agentUuid) {
      throw new TaskFailure(
        'a directory (tree) archive cannot be restored through an agent yet: restore it into a files target on this host, or download it',
      )
    }
    return runTreeRestore(task, archive, ctx, env)
  }
  const target = env.target(task.target_uuid)
  const agent = agentUuid ? await agentLink(env, agentUuid, ctx) : undefined
  const store = await env.vault.store(archive.store_uuid)
  const targetPlugin = agent
    ? agent.target(target.plugin)
    : await env.registry.target(target.plugin)
  ctx.log(
    `restoring archive ${archive.uuid} (${formatBytes(archive.size ?? 0)}) into target ${task.target_uuid} (${target.plugin})`,
  )
  const started = env.clock.now()
  const total = archive.size && archive.size > 0 ? archive.size : null
  const counter = new ByteCounter(
    (bytes) => env.queue.progress(task.uuid, bytes, total ? Math.min(1, bytes / total) : null),
    env.clock.now,
  )
  // Either side failing stops the other (only the other: a failing target still
  // explains and cleans up with its signal intact); canceling the task stops both.
  const stop = { source: new AbortController(), target: new AbortController() }
  const notes = new RestoreUndoRepo(env.catalog.db)
  const restoreCtx: PluginContext = {
    signal: AbortSignal.any([ctx.signal, stop.target.signal]),
    log: ctx.log,
    created: noteCreations(
      notes,
      { task: task.uuid, target: task.target_uuid, plugin: target.plugin },
      env.clock,
      ctx.log,
    ),
  }
  const source = await env.vault.read(store, archive, {
    signal: AbortSignal.any([ctx.signal, stop.source.signal]),
    log: ctx.log,
  })
  try {
    await transfer(source, counter, stop, ctx.signal, target.plugin, (data) =>
      targetPlugin.restore(target.endpoint, data, restoreCtx),
    )
    if (total !== null && counter.bytes !== total) {
      throw new TaskFailure(
        `the archive should hold ${total} bytes but the store returned ${counter.bytes}`,
      )
    }
  } catch (err) {
    // Both sides have stopped and the plugin has cleaned up; remove what it noted and left.
    await undoTaskNotes(notes, task.uuid, targetPlugin, target.endpoint, ctx.log)
    throw err
  }
  // Restored: whatever the restore created is the restored data now.
  notes.removeTask(task.uuid)
  env.catalog.tasks.update(task.uuid, { bytes: counter.bytes })
  const elapsed = env.clock.now() - started
  ctx.log(
    `restored ${formatBytes(counter.bytes)} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(counter.bytes, elapsed)})`,
  )
}

type Side = 'source' | 'target'

/**
 * The stream the target reads. Destroyed before it was read to its end, it
 * tells: the target gave up on the data (or the source failed, which is
 * noted first, see transfer).
 */
class Feed extends PassThrough {
  constructor(private readonly abandoned: (err: Error | null) => void) {
    super({ highWaterMark: 1024 * 1024 })
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.readableEnded) this.abandoned(err)
    cb(err)
  }
}

/**
 * Streams source → counter → the target's restore. Resolves when both sides
 * succeeded; otherwise rejects, once BOTH have settled, with the first real
 * cause. Which side failed first is noted as it happens: a source error is
 * seen by its listeners here before the pipeline passes it on, and a target
 * that gives up on its input destroys the feed before the pipeline reacts.
 */
async function transfer(
  source: Readable,
  counter: ByteCounter,
  stop: Record<Side, AbortController>,
  canceled: AbortSignal,
  targetName: string,
  restore: (data: Readable) => Promise<void>,
): Promise<void> {
  let origin: Side | undefined
  let sourceError: unknown
  let feedError: Error | null = null
  const failed = (side: Side, err: unknown) => {
    if (origin) return
    origin = side
    const other = side === 'source' ? 'target' : 'source'
    stop[other].abort(
      new PluginAbortedError(
        side === 'source' ? 'reading the archive failed' : `the ${targetName} restore failed`,
      ),
    )
    if (!feed.destroyed) feed.destroy(side === 'source' ? asError(err) : undefined)
  }
  const feed = new Feed((err) => {
    feedError = err
    failed('target', err)
  })
  const onSourceError = (err: unknown) => {
    sourceError ??= err
    failed('source', err)
  }
  // Registered before the pipeline's own listeners, so they run first.
  source.on('error', onSourceError)
  counter.on('error', onSourceError)
  source.once('close', () => {
    if (!origin && !source.readableEnded && !source.errored)
      onSourceError(new Error('the archive stream closed before its end'))
  })
  if (source.errored) onSourceError(source.errored)

  // (A plugin that throws instead of rejecting still fails as its side.)
  const restoring = new Promise<void>((resolve) => resolve(restore(feed))).then(
    // Done with the data: let the rest drain so the source finishes (and the bytes are counted).
    () => void feed.resume(),
    (err: unknown) => {
      failed('target', err)
      throw err
    },
  )
  const pumped = pipeline(source, counter, feed).catch((err: unknown) => {
    failed('source', err)
    throw err
  })
  const [restored, pump] = await Promise.allSettled([restoring, pumped])
  if (restored.status === 'fulfilled' && pump.status === 'fulfilled') return

  const fromTarget = [restored.status === 'rejected' ? restored.reason : undefined, feedError]
  const fromSource = [sourceError, pump.status === 'rejected' ? pump.reason : undefined]
  const errors = (
    origin === 'source' ? [...fromSource, ...fromTarget] : [...fromTarget, ...fromSource]
  )
    .filter((e) => e !== undefined && e !== null)
    .map(asError)
  const cause = errors.find((e) => !isConsequence(e))
  if (cause) throw cause
  const first = errors[0] ?? new Error('the restore failed')
  // Canceled, or the daemon is stopping: the runner says so.
  if (canceled.aborted) throw first
  // Nothing but "stopped" and "closed early": say which side stopped, in words.
  throw new TaskFailure(
    origin === 'source'
      ? `reading the archive stopped before its end (${first.message})`
      : `the ${targetName} restore stopped reading the archive before its end (${first.message})`,
  )
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** An error one side reports because the other stopped it, not a cause of its own. */
function isConsequence(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return (
    err.name === 'AbortError' ||
    err.name === 'PluginAbortedError' ||
    code === 'ABORT_ERR' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_STREAM_DESTROYED' ||
    code === 'EPIPE'
  )
}
