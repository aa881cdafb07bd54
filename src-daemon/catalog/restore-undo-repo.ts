// The notes restores leave of what they created (migration 004): written
// before a target plugin creates something (ctx.created), deleted once the
// restore succeeded or what the note describes was removed again. Whatever
// is still here after a failure, or at the next start, is undone by the
// daemon (tasks/restore-undo.ts).
import type { Db } from './db'

export interface RestoreUndoRow {
  id: number
  task_uuid: string
  target_uuid: string
  plugin: string
  /** JSON object: what the plugin's undoRestore needs. */
  note: string
  created_at: number
}

export interface NewRestoreUndo {
  task_uuid: string
  target_uuid: string
  plugin: string
  note: Record<string, unknown>
  created_at: number
}

export class RestoreUndoRepo {
  constructor(private readonly db: Db) {}

  /** Records a note at once (synchronously, durable before the creation happens); its id. */
  add(row: NewRestoreUndo): number {
    const res = this.db
      .prepare(
        `INSERT INTO restore_undo (task_uuid, target_uuid, plugin, note, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(row.task_uuid, row.target_uuid, row.plugin, JSON.stringify(row.note), row.created_at)
    return Number(res.lastInsertRowid)
  }

  /** Forgets one note; whether it was there. */
  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM restore_undo WHERE id = ?').run(id).changes > 0
  }

  /** Forgets every note of a task (its restore succeeded: what it created is kept). */
  removeTask(taskUuid: string): number {
    return this.db.prepare('DELETE FROM restore_undo WHERE task_uuid = ?').run(taskUuid).changes
  }

  /** A task's notes, oldest first. */
  forTask(taskUuid: string): RestoreUndoRow[] {
    return this.db
      .prepare('SELECT * FROM restore_undo WHERE task_uuid = ? ORDER BY id')
      .all(taskUuid) as RestoreUndoRow[]
  }

  /** Every note, oldest first. */
  all(): RestoreUndoRow[] {
    return this.db.prepare('SELECT * FROM restore_undo ORDER BY id').all() as RestoreUndoRow[]
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM restore_undo').get() as { n: number }).n
  }
}

/** The note's object, or undefined when its JSON is not an object (never written so by add). */
export function parseNote(row: RestoreUndoRow): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(row.note)
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
