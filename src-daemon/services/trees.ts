// Browsing directory archives (format 'tree'): one directory's entries a page
// at a time, finding entries by a name glob, the diff of two archives, and
// downloads of one file or one folder (tree-download.ts). The vault façade
// reads and authenticates a tree and keeps the last few (archives never
// change, so a kept tree cannot be stale); the per-directory index built
// over it here is kept beside it, for as long as that tree is kept.
import {
  BulwarkError,
  ErrorCode,
  invalid,
  type TreeDiff,
  type TreeDownloadPart,
  type TreeEntry,
  type TreePage,
} from '../contract'
import type { ArchiveListRow } from '../catalog/catalog'
import { compareTreePaths, normalizeTreePath, type TreeRecord } from '../vault/tree'
import type { PluginContext } from '../../plugins/sdk/types'
import type { StoreHandle } from '../vault/archives'
import type { ArchiveService } from './archives'
import type { ServiceContext } from './context'
import { diffTrees } from './tree-diff'
import { openTreeFiles } from './tree-files'
import { compileGlob, globMatches } from './tree-glob'
import { treeDownload, type TreeDownload } from './tree-download'
import type { VaultService } from './vault'

const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 10_000
/** Reading a tree from the store (50,000 entries take a second or two). */
const READ_TIMEOUT_MS = 5 * 60_000

/** A tree with its entries by path and each directory's entries by name ('' is the root). */
export interface TreeIndex {
  records: TreeRecord[]
  byPath: Map<string, TreeRecord>
  children: Map<string, TreeRecord[]>
}

/** An archive's tree, opened for reading. */
export interface OpenTree {
  archive: ArchiveListRow
  store: StoreHandle
  index: TreeIndex
}

const indexes = new WeakMap<TreeRecord[], TreeIndex>()

/** The index of a tree, built once per records array (tree order keeps children sorted). */
export function indexTree(records: TreeRecord[]): TreeIndex {
  let index = indexes.get(records)
  if (index) return index
  index = { records, byPath: new Map(), children: new Map([['', []]]) }
  for (const r of records) {
    index.byPath.set(r.path, r)
    const at = r.path.lastIndexOf('/')
    const parent = at < 0 ? '' : r.path.slice(0, at)
    let siblings = index.children.get(parent)
    if (!siblings) index.children.set(parent, (siblings = []))
    siblings.push(r)
    if (r.type === 'dir' && !index.children.has(r.path)) index.children.set(r.path, [])
  }
  indexes.set(records, index)
  return index
}

export const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1)

/** ISO 8601 to the millisecond from decimal nanoseconds. */
export function nsToIso(ns: string): string {
  const n = BigInt(ns)
  const ms = n / 1_000_000n - (n < 0n && n % 1_000_000n !== 0n ? 1n : 0n)
  return new Date(Number(ms)).toISOString()
}

/**
 * A path from a request, normalized ('' is the root), or a 400 naming the
 * field: no '..', no NUL, and no absolute path but '/' itself (paths inside
 * an archive are relative).
 */
export function requestPath(raw: string | undefined, field = 'path'): string {
  if (raw === undefined || raw === '/') return ''
  if (raw.startsWith('/')) {
    throw invalid(
      field,
      `"${raw}" is absolute; paths inside an archive are relative (write ${raw.replace(/^\/+/, '') || '/'}), and "/" is the root`,
    )
  }
  const path = normalizeTreePath(raw)
  if (path instanceof Error) throw invalid(field, path.message)
  return path
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw invalid('limit', `limit must be a count from 1 to ${MAX_LIMIT}; got ${raw}`)
  }
  return n
}

/** The cursor's text (a name or a path), or a 400: cursors are opaque, give back next_cursor. */
function cursorOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  const text = /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : ''
  if (text === '' || text.includes('\0') || Buffer.from(text).toString('base64url') !== raw) {
    throw invalid(
      'cursor',
      'cursor is not one this daemon gave; pass next_cursor from the last page',
    )
  }
  return text
}

const cursorFor = (text: string) => Buffer.from(text, 'utf8').toString('base64url')

export class TreeService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly archives: ArchiveService,
    private readonly vault: VaultService,
  ) {}

  /** The archive, if it is a tree that can be read now (else 404, 409, or 400 naming `field`). */
  private treeArchive(uuid: string, field: string): ArchiveListRow {
    const archive = this.archives.downloadable(uuid)
    if (archive.format !== 'tree') {
      throw invalid(
        field,
        `archive ${archive.uuid} is a single dump, not a directory tree: browse, find and diff work on archives of files targets made since directory backups became trees (December 2026); restore or download it whole`,
      )
    }
    return archive
  }

  /** Reads (or finds kept) the archive's tree. */
  async open(uuid: string, field = 'uuid'): Promise<OpenTree> {
    const archive = this.treeArchive(uuid, field)
    const what = `tree of archive ${archive.uuid}`
    const ctx: PluginContext = {
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      log: (line) => this.ctx.log.info(`${what}: ${line}`),
    }
    try {
      const store = await this.vault.handle(archive.store_uuid)
      const records = await this.vault.archives.readTree(store, archive, ctx)
      return { archive, store, index: indexTree(records) }
    } catch (err) {
      throw this.vault.failure(err)
    }
  }

  /** The entry at `path` ('' is the root, which has no record), or a 404. */
  static find(tree: OpenTree, path: string): TreeRecord | null {
    if (path === '') return null
    const r = tree.index.byPath.get(path)
    if (!r) {
      throw new BulwarkError(
        ErrorCode.NotFound,
        `archive ${tree.archive.uuid} has no entry ${path}`,
        'path',
      )
    }
    return r
  }

  entry(index: TreeIndex, r: TreeRecord): TreeEntry {
    const e: TreeEntry = {
      path: r.path,
      name: baseName(r.path),
      type: r.type,
      size: r.type === 'file' ? r.size : 0,
      mode: r.mode,
      mtime: nsToIso(r.mtime_ns),
      uid: r.uid,
      gid: r.gid,
    }
    if (r.user !== undefined) e.user = r.user
    if (r.group !== undefined) e.group = r.group
    if (r.target !== undefined) e.target = r.target
    if (r.type === 'dir') e.children = index.children.get(r.path)?.length ?? 0
    return e
  }

  /**
   * A directory's direct entries by name, a page at a time. A file (or any
   * entry that is not a directory) lists as itself, as `ls` does.
   */
  async list(
    uuid: string,
    q: { path?: string; limit?: string; cursor?: string },
  ): Promise<TreePage> {
    const path = requestPath(q.path)
    const limit = limitOf(q.limit)
    const after = cursorOf(q.cursor)
    const tree = await this.open(uuid)
    const r = TreeService.find(tree, path)
    const all = r && r.type !== 'dir' ? [r] : (tree.index.children.get(path) ?? [])
    let start = 0
    if (after !== undefined) {
      // Names are in code-unit order: the first one past the cursor.
      let hi = all.length
      while (start < hi) {
        const mid = (start + hi) >> 1
        if (baseName(all[mid]!.path) <= after) start = mid + 1
        else hi = mid
      }
    }
    const page = all.slice(start, start + limit)
    const more = start + limit < all.length
    return {
      path,
      entries: page.map((e) => this.entry(tree.index, e)),
      next_cursor: more ? cursorFor(baseName(page.at(-1)!.path)) : null,
      total: all.length,
    }
  }

  /** Entries whose name (or path, for a pattern with '/') matches the glob, in tree order. */
  async find(
    uuid: string,
    q: { pattern: string; limit?: string; cursor?: string },
  ): Promise<TreePage> {
    const limit = limitOf(q.limit)
    const after = cursorOf(q.cursor)
    const glob = compileGlob(q.pattern)
    const tree = await this.open(uuid)
    const entries: TreeEntry[] = []
    let total = 0
    let more = false
    // Every match is counted (total), so the whole tree is scanned anyway.
    for (const r of tree.index.records) {
      if (!globMatches(glob, r.path, baseName(r.path))) continue
      total++
      if (after !== undefined && compareTreePaths(r.path, after) <= 0) continue
      if (entries.length < limit) entries.push(this.entry(tree.index, r))
      else more = true
    }
    return {
      path: '',
      entries,
      next_cursor: more ? cursorFor(entries.at(-1)!.path) : null,
      total,
    }
  }

  /** What changed from `against` (the older) to `uuid`; both must be tree archives. */
  async diff(uuid: string, against: string): Promise<TreeDiff> {
    const newer = await this.open(uuid)
    const older = await this.open(against, 'against')
    return diffTrees(
      newer.archive.uuid,
      older.archive.uuid,
      newer.index.records,
      older.index.records,
    )
  }

  /** A file as itself, a directory (or the whole tree) as a tar or zip: see tree-download.ts. */
  async download(uuid: string, part: TreeDownloadPart, signal: AbortSignal): Promise<TreeDownload> {
    const tree = await this.open(uuid)
    const path = requestPath(part.path)
    const what = `download of ${path || 'the tree'} from archive ${tree.archive.uuid}`
    const ctx: PluginContext = { signal, log: (line) => this.ctx.log.info(`${what}: ${line}`) }
    return treeDownload(tree, path, part.format ?? 'tar', {
      open: (r) => this.vault.archives.readTreeFile(tree.store, tree.archive, r, ctx),
      files: () => openTreeFiles(this.vault.archives, tree.store, tree.archive, ctx),
      failure: (err) => this.vault.failure(err),
      log: this.ctx.log,
      what,
    })
  }
}
