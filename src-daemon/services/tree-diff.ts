// What changed between two trees of directory archives (GET
// /v1/archive/:uuid/diff): entries added, removed, and modified with what
// differs. Pure: both record lists are in tree order, so one merge pass
// compares them. File contents are compared by their slices (the vault's
// keyed chunk ids): a backup reuses an unchanged file's slices, so equal
// slices mean equal content; a file re-read with the same bytes may get
// other slices (small files share chunks with their neighbours), which shows
// as "content" beside the "mtime" that made the backup re-read it.
import type { TreeDiff, TreeDiffEntry } from '../contract'
import { compareTreePaths, type TreeRecord } from '../vault/tree'

/** What differs between two records of one path (empty: nothing a person would care about). */
export function recordChanges(old: TreeRecord, now: TreeRecord): string[] {
  const changes: string[] = []
  if (old.type !== now.type) changes.push('type')
  if (now.type === 'file' && old.type === 'file' && !sameContent(old, now)) changes.push('content')
  if (old.mode !== now.mode) changes.push('mode')
  if (
    old.uid !== now.uid ||
    old.gid !== now.gid ||
    old.user !== now.user ||
    old.group !== now.group
  )
    changes.push('owner')
  // A directory's mtime moves whenever an entry is added or removed: that shows on its own.
  if (old.mtime_ns !== now.mtime_ns && !(now.type === 'dir' && old.type === 'dir')) {
    changes.push('mtime')
  }
  if ((old.target ?? '') !== (now.target ?? '')) changes.push('target')
  return changes
}

function sameContent(a: TreeRecord, b: TreeRecord): boolean {
  if (a.size !== b.size) return false
  const x = a.content ?? []
  const y = b.content ?? []
  if (x.length !== y.length) return false
  return x.every((s, i) => s.every((v, j) => v === y[i]![j]))
}

const entry = (r: TreeRecord, size: number, oldSize: number): TreeDiffEntry => ({
  path: r.path,
  type: r.type,
  size,
  old_size: oldSize,
  delta: size - oldSize,
})

/** The diff from `older` (against) to `newer` (archive), both in tree order. */
export function diffTrees(
  archive: string,
  against: string,
  newer: readonly TreeRecord[],
  older: readonly TreeRecord[],
): TreeDiff {
  const diff: TreeDiff = {
    archive,
    against,
    added: [],
    removed: [],
    modified: [],
    summary: {
      added: 0,
      removed: 0,
      modified: 0,
      added_bytes: 0,
      removed_bytes: 0,
      modified_delta: 0,
    },
  }
  let i = 0
  let j = 0
  while (i < newer.length || j < older.length) {
    const n = newer[i]
    const o = older[j]
    const order = !n ? 1 : !o ? -1 : compareTreePaths(n.path, o.path)
    if (order < 0) {
      diff.added.push(entry(n!, n!.size, 0))
      i++
    } else if (order > 0) {
      diff.removed.push(entry(o!, 0, o!.size))
      j++
    } else {
      const changes = recordChanges(o!, n!)
      if (changes.length > 0) diff.modified.push({ ...entry(n!, n!.size, o!.size), changes })
      i++
      j++
    }
  }
  const s = diff.summary
  s.added = diff.added.length
  s.removed = diff.removed.length
  s.modified = diff.modified.length
  s.added_bytes = diff.added.reduce((sum, e) => sum + e.size, 0)
  s.removed_bytes = diff.removed.reduce((sum, e) => sum + e.old_size, 0)
  s.modified_delta = diff.modified.reduce((sum, e) => sum + e.delta, 0)
  return diff
}
