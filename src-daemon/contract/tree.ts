// Wire shapes of directory archives as trees (format 'tree'): browsing a
// tree, finding by name, diffing two archives, and restoring or downloading
// part of one. Paths inside an archive are relative, '/'-separated, with no
// leading '/', no '.' or '..' segments and no empty segments; '' is the root.
import { Type, type Static } from '@sinclair/typebox'

export const TREE_ENTRY_TYPES = [
  'file',
  'dir',
  'symlink',
  'hardlink',
  'fifo',
  'chardev',
  'blockdev',
] as const
export type TreeEntryType = (typeof TREE_ENTRY_TYPES)[number]

/** One entry of an archive's tree, as the API lists it. */
export interface TreeEntry {
  /** Relative to the archive's root, '/'-separated ("docs/report.odt"). */
  path: string
  /** The last segment of path. */
  name: string
  type: TreeEntryType
  /** Bytes of a regular file's content (0 for other types). */
  size: number
  /** Permission bits and set-id bits (mode & 0o7777). */
  mode: number
  /** ISO 8601 UTC, to the millisecond (the vault keeps nanoseconds). */
  mtime: string
  uid: number
  gid: number
  /** Owner names when they were known at backup time. */
  user?: string
  group?: string
  /** A symlink's target as stored, or the path (in the archive) a hard link shares its content with. */
  target?: string
  /** For a directory: its entries, direct children only. */
  children?: number
}

/** A page of entries; pass next_cursor as cursor for the next one (null: no more). */
export interface TreePage {
  /** The directory listed (for /tree) or '' (for /find). */
  path: string
  entries: TreeEntry[]
  next_cursor: string | null
  /** Entries matched in all, across pages. */
  total: number
}

const TreePath = Type.String({
  maxLength: 4096,
  description: 'a path inside the archive, such as docs/report.odt ("" or "/" for the root)',
})
const Limit = Type.String({ pattern: '^[0-9]{1,5}$', description: 'a count from 1 to 10000' })
const Cursor = Type.String({ maxLength: 8192, description: 'next_cursor of the previous page' })

/** GET /v1/archive/:uuid/tree?path=&limit=&cursor=: one directory's direct entries, by name. */
export const TreeQuery = Type.Object(
  { path: Type.Optional(TreePath), limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
)

/**
 * GET /v1/archive/:uuid/find?pattern=&limit=&cursor=: every entry whose name
 * (or, when the pattern holds a '/', whose path) matches a glob: '*' and '?'
 * within a segment, '**' across segments, case-insensitive. In path order.
 */
export const TreeFindQuery = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 1024, description: 'a glob, such as *.odt' }),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
)

export interface TreeDiffEntry {
  path: string
  type: TreeEntryType
  /** Size in the newer archive (0 when removed). */
  size: number
  /** Size in the older archive (0 when added). */
  old_size: number
  /** size - old_size. */
  delta: number
  /** For modified entries: what differs (content, mode, owner, mtime, type, target). */
  changes?: string[]
}

export interface TreeDiff {
  archive: string
  against: string
  added: TreeDiffEntry[]
  removed: TreeDiffEntry[]
  modified: TreeDiffEntry[]
  /** Counts and byte totals of each kind. */
  summary: {
    added: number
    removed: number
    modified: number
    added_bytes: number
    removed_bytes: number
    /** Sum of the modified entries' deltas. */
    modified_delta: number
  }
}

/**
 * What a restore does where a file it would write already exists: refuse the
 * whole restore before writing anything (the default), overwrite it, or keep
 * both (the restored copy is written beside it as "name.restored-YYYYMMDD-HHMMSS[.ext]").
 */
export const RESTORE_CONFLICTS = ['refuse', 'overwrite', 'keep-both'] as const
export type RestoreConflict = (typeof RESTORE_CONFLICTS)[number]

/** Fields POST /v1/archive/:uuid/restore accepts for a tree archive (beside target and owner). */
export const TreeRestoreFields = {
  /** Files or directories inside the archive; absent or empty: all of it. */
  paths: Type.Optional(Type.Array(TreePath, { minItems: 1, maxItems: 10000 })),
  conflict: Type.Optional(
    Type.Union(
      RESTORE_CONFLICTS.map((c) => Type.Literal(c)),
      { description: 'refuse, overwrite or keep-both' },
    ),
  ),
  /**
   * An absolute directory on the daemon's machine to restore into instead of
   * the target's own directory (created if missing).
   */
  to: Type.Optional(
    Type.String({ minLength: 1, maxLength: 4096, description: 'an absolute path' }),
  ),
}

/** Query fields GET /v1/archive/:uuid/download accepts for a tree archive. */
export const TreeDownloadFields = {
  /** A file (downloaded as itself) or a directory (as a tar or zip). Absent: the whole tree. */
  path: Type.Optional(TreePath),
  /** For a directory: tar (default) or zip. */
  format: Type.Optional(Type.Union([Type.Literal('tar'), Type.Literal('zip')])),
}

export type TreeQueryInput = Static<typeof TreeQuery>
export type TreeFindInput = Static<typeof TreeFindQuery>

/** Which part of a tree archive a download (or its link) fetches. */
export interface TreeDownloadPart {
  path?: string
  format?: 'tar' | 'zip'
}

/** The `ls -l` letter of each entry type (a hard link is a regular file sharing content). */
const TYPE_CHAR: Record<TreeEntryType, string> = {
  file: '-',
  hardlink: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  chardev: 'c',
  blockdev: 'b',
}

/** "drwxr-xr-x", "-rwsr-x---": the type and permission bits as `ls -l` shows them. */
export function modeString(type: TreeEntryType, mode: number): string {
  const bit = (mask: number, ch: string) => (mode & mask ? ch : '-')
  // The execute slot also carries setuid/setgid/sticky: lower case with x, upper without.
  const special = (x: number, s: number, on: string) =>
    mode & s ? (mode & x ? on : on.toUpperCase()) : bit(x, 'x')
  return (
    TYPE_CHAR[type] +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    special(0o100, 0o4000, 's') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    special(0o010, 0o2000, 's') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    special(0o001, 0o1000, 't')
  )
}
