// Planning a tree restore (tree-restore.ts): which records a restore of
// some paths writes, where each goes (its own path, or beside it for
// keep-both), and what already stands in the destination. Reads only.
import { lstat } from 'node:fs/promises'
import { basename, dirname, extname } from 'node:path'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { TreeRestoreOptions } from './tree-restore'
import { isWithin, type TreeRecord } from './tree'

/** Conflicts named in a refusal, at most. */
export const NAMED = 10

export interface RestorePlan {
  /** What stands at the destination directory itself. */
  destKind: Kind
  /** Where each entry the restore writes goes. */
  target: Map<string, string>
  /** Paths where something already stands. */
  conflicts: string[]
  /** Directory paths that exist as directories. */
  existingDirs: Set<string>
  /** Directory paths where something else stands. */
  blocked: Set<string>
}

/** Which records a restore of `paths` writes: each path's entry and everything inside it. */
export function selectRecords(records: TreeRecord[], paths: string[] | undefined): TreeRecord[] {
  if (!paths || paths.length === 0 || paths.includes('')) return records
  const known = new Set(records.map((r) => r.path))
  const unknown = paths.filter((p) => !known.has(p))
  if (unknown.length > 0) {
    throw new PluginError(
      `not in the archive: ${unknown.slice(0, NAMED).join(', ')}${unknown.length > NAMED ? ` and ${unknown.length - NAMED} more` : ''}`,
    )
  }
  return records.filter((r) => paths.some((p) => isWithin(r.path, p)))
}

/** "report.odt" → "report.restored-20261207-153000.odt". */
export function keepBothName(name: string, now: number): string {
  const d = new Date(now)
  const p = (n: number) => String(n).padStart(2, '0')
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
  const ext = extname(name)
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name
  return `${stem}.restored-${stamp}${ext && ext !== name ? ext : ''}`
}

export type Kind = 'missing' | 'dir' | 'other'
export async function kindAt(abs: string): Promise<Kind> {
  try {
    const st = await lstat(abs)
    return st.isDirectory() ? 'dir' : 'other'
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
}

/**
 * Where each selected entry goes and what stands in the way, found before
 * the first write: a refusal (conflict "refuse", or a directory blocked by a
 * file with "keep-both") is thrown here, naming the paths.
 */
export async function planRestore(
  opts: Pick<TreeRestoreOptions, 'dest' | 'conflict' | 'now' | 'ctx'>,
  selected: TreeRecord[],
): Promise<RestorePlan> {
  const { dest } = opts
  const signal = opts.ctx.signal
  const abs = (rel: string) => `${dest}/${rel}`

  // Where each entry goes: its own path, or beside it (keep-both).
  const target = new Map<string, string>()
  const conflicts: string[] = []
  const existingDirs = new Set<string>([''])
  const missingDirs = new Set<string>()
  const blocked = new Set<string>() // directory paths where something else stands

  const destKind = await kindAt(dest)
  if (destKind === 'other') {
    throw new PluginError(`restore into ${dest} refused: it exists and is not a directory`)
  }
  if (destKind === 'missing') missingDirs.add('')
  else existingDirs.delete('') // checked through the parents below
  // Every ancestor of a selected entry must be a real directory (or missing).
  const parentState = async (rel: string): Promise<'dir' | 'missing' | 'blocked'> => {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''
    if (parent === '') return destKind === 'missing' ? 'missing' : 'dir'
    if (existingDirs.has(parent)) return 'dir'
    if (missingDirs.has(parent)) return 'missing'
    if (blocked.has(parent)) return 'blocked'
    const up = await parentState(parent)
    if (up !== 'dir') {
      ;(up === 'missing' ? missingDirs : blocked).add(parent)
      return up
    }
    const kind = await kindAt(abs(parent))
    if (kind === 'dir') existingDirs.add(parent)
    else if (kind === 'missing') missingDirs.add(parent)
    else {
      blocked.add(parent)
      conflicts.push(`${parent} (not a directory in the destination)`)
    }
    return kind === 'dir' ? 'dir' : kind === 'missing' ? 'missing' : 'blocked'
  }

  for (const r of selected) {
    if (signal.aborted) throw new PluginAbortedError()
    const up = await parentState(r.path)
    // Under a blocked directory nothing exists yet: overwrite replaces the blocker, the others refuse.
    if (up === 'blocked' && opts.conflict !== 'overwrite') continue
    target.set(r.path, abs(r.path))
    if (up !== 'dir') continue
    const kind = await kindAt(abs(r.path))
    if (kind === 'missing') continue
    if (r.type === 'dir') {
      if (kind === 'dir') existingDirs.add(r.path)
      else {
        blocked.add(r.path)
        conflicts.push(`${r.path} (not a directory in the destination)`)
      }
      continue
    }
    conflicts.push(r.path)
    if (opts.conflict === 'keep-both') {
      target.set(r.path, `${dirname(abs(r.path))}/${keepBothName(basename(r.path), opts.now)}`)
    }
  }
  // A directory blocked by a file can only be replaced (overwrite); otherwise refuse.
  const hardBlocked = conflicts.filter((c) => c.endsWith('(not a directory in the destination)'))
  if (
    (opts.conflict === 'refuse' && conflicts.length > 0) ||
    (opts.conflict === 'keep-both' && hardBlocked.length > 0)
  ) {
    const list = opts.conflict === 'refuse' ? conflicts : hardBlocked
    const more = list.length > NAMED ? ` and ${list.length - NAMED} more` : ''
    throw new PluginError(
      `restore into ${dest} refused before writing anything: ${list.length} path(s) already exist there: ${list.slice(0, NAMED).join(', ')}${more}. Restore into another directory ("to"), or choose conflict "overwrite" or "keep-both"`,
    )
  }

  return { destKind, target, conflicts, existingDirs, blocked }
}
