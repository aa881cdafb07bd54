// Undoing what a failed restore created. A target plugin calls ctx.created
// right before it creates something a failed restore must not leave behind
// (a database); the note goes into the catalog at once (restore_undo), so it
// survives a crash. A restore that succeeds forgets its notes; one that fails
// or is canceled has the plugin's undoRestore called for every note still
// recorded (the plugin usually cleaned up itself and withdrew them already);
// and at the next start the daemon does the same for whatever a crashed or
// interrupted daemon left (undoLeftoverRestores), before any task runs.
import type { Catalog } from '../catalog/catalog'
import { RestoreUndoRepo, parseNote, type RestoreUndoRow } from '../catalog/restore-undo-repo'
import type { PluginRegistry } from '../plugin-host/registry'
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import type { Endpoint, PluginContext, TargetPlugin } from '../../plugins/sdk/types'
import type { TaskQueue } from './queue'

/** How long one undoRestore may take (connecting, dropping a database). */
export const UNDO_TIMEOUT_MS = 60_000

/**
 * ctx.created for one restore: records the note synchronously (an error here
 * fails the plugin's call before it creates anything) and returns the
 * function that withdraws it, which never throws.
 */
export function noteCreations(
  notes: RestoreUndoRepo,
  restore: { task: string; target: string; plugin: string },
  clock: Clock,
  log: (line: string) => void,
): (note: Record<string, unknown>) => () => void {
  return (note) => {
    const id = notes.add({
      task_uuid: restore.task,
      target_uuid: restore.target,
      plugin: restore.plugin,
      note,
      created_at: clock.now(),
    })
    return () => {
      try {
        notes.remove(id)
      } catch (err) {
        // Kept: undoRestore is idempotent, so the worst is one needless undo later.
        log(`could not forget the restore's undo note ${id}: ${(err as Error).message}`)
      }
    }
  }
}

/** "postgres: database orders_copy", from the note's own fields. */
function describeNote(row: RestoreUndoRow): string {
  const note = parseNote(row)
  const what = note
    ? Object.entries(note)
        .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ')
    : row.note
  return `${row.plugin}: ${what}`
}

/**
 * Calls undoRestore for one note and forgets the note once it succeeded (or
 * when it cannot be used at all, saying so). Resolves to why it failed, if it
 * did: the note is then kept, so the next start tries again.
 */
async function undoNote(
  notes: RestoreUndoRepo,
  row: RestoreUndoRow,
  plugin: TargetPlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
): Promise<string | undefined> {
  const note = parseNote(row)
  if (!note || !plugin.undoRestore) {
    ctx.log(
      `cannot undo what the restore created (${describeNote(row)}): ${note ? `the ${row.plugin} plugin has no undoRestore` : 'the note is unreadable'}; remove it by hand if it is still there`,
    )
    notes.remove(row.id)
    return undefined
  }
  try {
    await plugin.undoRestore(endpoint, note, ctx)
  } catch (err) {
    const why = ctx.signal.aborted
      ? `it did not finish within ${UNDO_TIMEOUT_MS / 1000} s, or the daemon stopped`
      : (err as Error).message
    return `could not undo what the restore created (${describeNote(row)}): ${why}; Bulwark tries again at its next start`
  }
  notes.remove(row.id)
  return undefined
}

/**
 * After a restore failed (or was canceled): undoes every note of the task
 * that is still recorded. Runs with its own time limit, since the task's
 * signal has usually fired already. Never rejects.
 */
export async function undoTaskNotes(
  notes: RestoreUndoRepo,
  task: string,
  plugin: TargetPlugin,
  endpoint: Endpoint,
  log: (line: string) => void,
): Promise<void> {
  const say = (line: string) => {
    try {
      log(line)
    } catch {
      // the catalog is closing (the daemon stops): the note, if kept, says it all next start
    }
  }
  let rows: RestoreUndoRow[]
  try {
    rows = notes.forTask(task)
  } catch (err) {
    return say(`could not read what the restore noted it created: ${(err as Error).message}`)
  }
  for (const row of rows) {
    const ctx: PluginContext = { signal: AbortSignal.timeout(UNDO_TIMEOUT_MS), log: say }
    const failed = await undoNote(notes, row, plugin, endpoint, ctx).catch(
      (err: unknown) => `could not undo what the restore created: ${(err as Error).message}`,
    )
    if (failed) say(failed)
  }
}

export interface LeftoverDeps {
  catalog: Catalog
  registry: PluginRegistry
  queue: TaskQueue
  log: Logger
  /** A target's plugin and endpoint, secrets resolved as for a restore. */
  target(uuid: string): { plugin: string; endpoint: Endpoint }
}

/**
 * At start, before any task runs: undoes what restores that failed, or died
 * with the daemon, still have notes for (a database created and never
 * filled). Each note is tried with the target's current endpoint; undone, it
 * is forgotten; failed, it is kept and logged, for the next start. A note
 * whose target was deleted is logged and forgotten. Undefined when there is
 * nothing to do (the caller may go on at once); the promise never rejects.
 */
export function undoLeftoverRestores(
  deps: LeftoverDeps,
  signal: AbortSignal,
): Promise<void> | undefined {
  const notes = new RestoreUndoRepo(deps.catalog.db)
  const rows = notes.all()
  if (rows.length === 0) return undefined
  deps.log.warn(
    `restores that failed or were interrupted noted ${rows.length} thing(s) they created (a database, say) that may still be there; removing them before any task runs`,
  )
  return (async () => {
    for (const row of rows) {
      if (signal.aborted) return
      await undoLeftover(deps, notes, row, signal).catch((err: unknown) =>
        deps.log.warn(
          `restore ${row.task_uuid}: could not undo what it created (${describeNote(row)}): ${(err as Error).message}; Bulwark tries again at its next start`,
        ),
      )
    }
  })()
}

async function undoLeftover(
  deps: LeftoverDeps,
  notes: RestoreUndoRepo,
  row: RestoreUndoRow,
  signal: AbortSignal,
): Promise<void> {
  const taskKnown = deps.catalog.tasks.get(row.task_uuid) !== undefined
  const log = (line: string, warn = false) => {
    deps.log[warn ? 'warn' : 'info'](`restore ${row.task_uuid}: ${line}`)
    // The failed task's own log says it too, if the task is still there.
    if (taskKnown) deps.queue.log(row.task_uuid, `after a restart of the daemon: ${line}`)
  }
  const target = deps.catalog.targets.get(row.target_uuid)
  if (!target) {
    log(
      `target ${row.target_uuid} was deleted, so what the restore created (${describeNote(row)}) cannot be undone by Bulwark; remove it by hand if it is still there`,
      true,
    )
    notes.remove(row.id)
    return
  }
  if (target.plugin !== row.plugin) {
    log(
      `target ${row.target_uuid} now uses the ${target.plugin} plugin, so what the restore created (${describeNote(row)}) cannot be undone by Bulwark; remove it by hand if it is still there`,
      true,
    )
    notes.remove(row.id)
    return
  }
  if (target.agent) {
    // Run here, the plugin would undo on this host what was created on the agent's.
    const agent = deps.catalog.agents.get(target.agent)?.name ?? target.agent
    log(
      `target ${row.target_uuid} runs on agent "${agent}", which is not connected while the daemon starts, so what the restore created there (${describeNote(row)}) is not undone; remove it by hand on that host if it is still there`,
      true,
    )
    notes.remove(row.id)
    return
  }
  const ctx: PluginContext = {
    signal: AbortSignal.any([signal, AbortSignal.timeout(UNDO_TIMEOUT_MS)]),
    log: (line) => log(line),
  }
  const plugin = await deps.registry.target(row.plugin)
  const { endpoint } = deps.target(row.target_uuid)
  const failed = await undoNote(notes, row, plugin, endpoint, ctx)
  if (failed) log(failed, true)
}
