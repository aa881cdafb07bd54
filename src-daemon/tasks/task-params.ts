// What a task was asked beyond its catalog columns, kept as JSON in the
// task's params: a backup's full read, a tree restore's paths, conflict rule
// and destination, the archives a retention purge removes. Written by the
// services when they enqueue, read by the task handlers; unknown or
// malformed JSON reads as nothing asked.
import type { RestoreConflict } from '../contract/tree'
import type { TaskRow } from '../catalog/rows'

export interface BackupParams {
  /** Read every file even when its metadata is unchanged. */
  full_read?: boolean
}

export interface RestoreParams {
  /** Paths inside a tree archive (normalized); absent: all of it. */
  paths?: string[]
  conflict?: RestoreConflict
  /** An absolute directory to restore into instead of the target's. */
  to?: string
}

export interface PurgeParams {
  /** Retention's one pass over a store: every archive it expired there (else the task's archive_uuid). */
  archives?: string[]
}

type Params = BackupParams | RestoreParams | PurgeParams

/** The params as JSON for TaskSpec.params (null when there is nothing to say). */
export function encodeParams(params: Params): string | null {
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined))
  return Object.keys(clean).length > 0 ? JSON.stringify(clean) : null
}

export function taskParams<T extends Params>(task: TaskRow): T {
  if (!task.params) return {} as T
  try {
    const parsed: unknown = JSON.parse(task.params)
    return (typeof parsed === 'object' && parsed !== null ? parsed : {}) as T
  } catch {
    return {} as T
  }
}
