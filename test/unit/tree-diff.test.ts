// The diff of two trees (pure): one merge pass over both in tree order,
// naming what differs, and the summary's counts and byte totals.
import { describe, expect, it } from 'vitest'
import { diffTrees, recordChanges } from '../../src-daemon/services/tree-diff'
import type { TreeRecord } from '../../src-daemon/vault/tree'

const ID = (c: string) => c.repeat(64)
const rec = (path: string, over: Partial<TreeRecord> = {}): TreeRecord => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 1000,
  mtime_ns: '1700000000000000000',
  ctime_ns: '1700000000000000000',
  size: 4,
  ino: '1',
  dev: '1',
  content: [[ID('a'), 100, 0, 4]],
  ...over,
})
const dir = (path: string, over: Partial<TreeRecord> = {}) =>
  rec(path, { type: 'dir', size: 0, content: undefined, ...over })

describe('tree diff', () => {
  it('names each kind of change', () => {
    const f = rec('f')
    expect(recordChanges(f, f)).toEqual([])
    expect(recordChanges(f, rec('f', { content: [[ID('b'), 100, 0, 4]] }))).toEqual(['content'])
    expect(recordChanges(f, rec('f', { size: 5, content: [[ID('a'), 100, 0, 5]] }))).toEqual([
      'content',
    ])
    expect(recordChanges(f, rec('f', { mode: 0o600 }))).toEqual(['mode'])
    expect(recordChanges(f, rec('f', { uid: 0 }))).toEqual(['owner'])
    expect(recordChanges(f, rec('f', { user: 'root' }))).toEqual(['owner'])
    expect(recordChanges(f, rec('f', { mtime_ns: '1' }))).toEqual(['mtime'])
    const link = rec('f', { type: 'symlink', size: 0, content: undefined, target: 'x' })
    expect(recordChanges(f, link)).toEqual(['type', 'target'])
    expect(recordChanges(link, { ...link, target: 'y' })).toEqual(['target'])
    // Only ctime or inode moved (a backup tool touched nothing a person sees).
    expect(recordChanges(f, rec('f', { ctime_ns: '5', ino: '9' }))).toEqual([])
  })

  it("ignores a directory's mtime alone, not its mode", () => {
    expect(recordChanges(dir('d'), dir('d', { mtime_ns: '2' }))).toEqual([])
    expect(recordChanges(dir('d'), dir('d', { mode: 0o700, mtime_ns: '2' }))).toEqual(['mode'])
  })

  it('merges two trees in tree order into added, removed and modified with a summary', () => {
    const older = [dir('a'), rec('a/gone', { size: 10 }), rec('a/same'), rec('a/x'), rec('b.txt')]
    const newer = [
      dir('a', { mtime_ns: '9' }),
      rec('a/new', { size: 7 }),
      rec('a/same'),
      rec('a/x', { size: 9, content: [[ID('c'), 100, 0, 9]] }),
      rec('a.txt', { size: 3 }),
      rec('b.txt'),
    ]
    const d = diffTrees('N', 'O', newer, older)
    expect(d.added.map((e) => e.path)).toEqual(['a/new', 'a.txt'])
    expect(d.removed).toEqual([{ path: 'a/gone', type: 'file', size: 0, old_size: 10, delta: -10 }])
    expect(d.modified).toEqual([
      { path: 'a/x', type: 'file', size: 9, old_size: 4, delta: 5, changes: ['content'] },
    ])
    expect(d.summary).toEqual({
      added: 2,
      removed: 1,
      modified: 1,
      added_bytes: 10,
      removed_bytes: 10,
      modified_delta: 5,
    })
    expect(diffTrees('N', 'O', [], older).removed).toHaveLength(older.length)
  })
})
