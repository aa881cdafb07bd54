// Over ~300 lines on purpose: the tree format's records and their checks, read beside docs/vault-format.md.
// The tree of a directory archive (format 'tree', docs/vault-format.md "Tree
// archives"): one record per entry, depth-first with each directory's names
// in code-unit order, serialized as NDJSON and stored as ordinary vault
// chunks. Regular files point at their bytes through slices of chunks
// ([chunk id, chunk size, offset, length]): a large file has chunks of its
// own, small files share one content-defined stream. Pure functions: paths
// are validated here, so nothing read from a store can name "..".
import { VaultError } from './objects'
import { TREE_ENTRY_TYPES, type TreeEntryType } from '../contract/tree'

export const TREE_VERSION = 1

/** [chunk id, the chunk's plaintext size, offset in the chunk, length]. */
export type Slice = [string, number, number, number]

export interface TreeRecord {
  /** Relative, '/'-separated, no '', '.' or '..' segment, no NUL; never the root itself. */
  path: string
  type: TreeEntryType
  /** Permission and set-id bits (mode & 0o7777). */
  mode: number
  uid: number
  gid: number
  user?: string
  group?: string
  /** Decimal nanoseconds since the epoch. */
  mtime_ns: string
  ctime_ns: string
  /** A regular file's bytes (0 for the other types). */
  size: number
  /** Inode and device numbers (decimal), for incremental matching. */
  ino: string
  dev: string
  /** A symlink's target as stored; a hard link's first path in the archive. */
  target?: string
  /** A device's number (decimal). */
  rdev?: string
  /** Extended attributes, base64 values. */
  xattrs?: Record<string, string>
  /** A regular file's content, in order; their lengths add up to size. */
  content?: Slice[]
}

/**
 * The backed-up directory's own metadata (it has no entry: every path is
 * relative to it). Kept in the manifest's tree reference, which readers that
 * predate it ignore; archives written before it have none.
 */
export interface TreeRoot {
  mode: number
  uid: number
  gid: number
  user?: string
  group?: string
  mtime_ns: string
  /** Extended attributes, base64 values. */
  xattrs?: Record<string, string>
}

/** What the manifest says of a tree archive's tree. */
export interface TreeRef {
  version: typeof TREE_VERSION
  /** The NDJSON's chunks, in order. */
  chunks: [string, number][]
  entries: number
  files: number
  /** Sum of the regular files' sizes. */
  bytes: number
  root?: TreeRoot
}

/** A path inside an archive, or why it is not one (for a 400 or a corrupt tree). */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'it is empty'
  if (path.includes('\0')) return 'it holds a NUL character'
  if (path.startsWith('/')) return 'it is absolute (paths inside an archive are relative)'
  for (const seg of path.split('/')) {
    if (seg === '') return 'it has an empty segment ("//" or a trailing "/")'
    if (seg === '.' || seg === '..') return `it has a "${seg}" segment`
  }
  return undefined
}

/**
 * A path as a user gave it ("docs/", "/docs", "./docs" mean "docs"; "" and
 * "/" the root, returned as ''), or an Error saying what is wrong.
 */
export function normalizeTreePath(raw: string): string | Error {
  let p = raw.replace(/^\/+/, '').replace(/\/+$/, '')
  while (p.startsWith('./')) p = p.slice(2)
  if (p === '' || p === '.') return ''
  const why = pathProblem(p)
  return why ? new Error(`"${raw}" is not a path inside the archive: ${why}`) : p
}

const isStr = (x: unknown): x is string => typeof x === 'string'
const isDec = (x: unknown): x is string => isStr(x) && /^-?[0-9]{1,40}$/.test(x)
const isCount = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
const ID_RE = /^[0-9a-f]{64}$/

/** Checked extended attributes (name → base64 value), or undefined when malformed. */
function parseXattrs(x: unknown): Record<string, string> | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(x)) {
    if (k === '' || k.includes('\0') || !isStr(v) || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
      return undefined
    }
    out[k] = v
  }
  return out
}

/** A manifest's tree.root, checked; `bad` makes the corrupt-archive error. */
export function parseTreeRoot(x: unknown, bad: (why: string) => Error): TreeRoot {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw bad('"tree.root" is not an object')
  const o = x as Record<string, unknown>
  for (const f of ['mode', 'uid', 'gid'] as const) {
    if (!isCount(o[f])) throw bad(`"tree.root" has a bad ${f}`)
  }
  if (!isDec(o.mtime_ns)) throw bad('"tree.root" has a bad mtime_ns')
  const root: TreeRoot = {
    mode: (o.mode as number) & 0o7777,
    uid: o.uid as number,
    gid: o.gid as number,
    mtime_ns: o.mtime_ns,
  }
  if (isStr(o.user)) root.user = o.user
  if (isStr(o.group)) root.group = o.group
  if (o.xattrs !== undefined) {
    const xa = parseXattrs(o.xattrs)
    if (!xa) throw bad('"tree.root" has bad xattrs')
    root.xattrs = xa
  }
  return root
}

/** One NDJSON line of a tree, checked; errors say which entry is wrong. */
export function parseRecord(
  line: string,
  n: number,
  name: string,
  ids?: Map<string, string>,
): TreeRecord {
  const bad = (why: string) =>
    new VaultError('corrupt', `${name} is corrupt: tree entry ${n} ${why}`)
  let x: Record<string, unknown>
  try {
    x = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw bad('is not JSON')
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad('is not an object')
  if (!isStr(x.path)) throw bad('has no path')
  const why = pathProblem(x.path)
  if (why) throw bad(`has a bad path (${why})`)
  if (!(TREE_ENTRY_TYPES as readonly unknown[]).includes(x.type)) throw bad('has a bad type')
  for (const f of ['mode', 'uid', 'gid', 'size'] as const) {
    if (!isCount(x[f])) throw bad(`has a bad ${f}`)
  }
  for (const f of ['mtime_ns', 'ctime_ns', 'ino', 'dev'] as const) {
    if (!isDec(x[f])) throw bad(`has a bad ${f}`)
  }
  const rec: TreeRecord = {
    path: x.path,
    type: x.type as TreeEntryType,
    mode: (x.mode as number) & 0o7777,
    uid: x.uid as number,
    gid: x.gid as number,
    mtime_ns: x.mtime_ns as string,
    ctime_ns: x.ctime_ns as string,
    size: x.size as number,
    ino: x.ino as string,
    dev: x.dev as string,
  }
  if (isStr(x.user)) rec.user = x.user
  if (isStr(x.group)) rec.group = x.group
  if (x.target !== undefined) {
    if (!isStr(x.target) || x.target.includes('\0')) throw bad('has a bad target')
    rec.target = x.target
  }
  if (rec.type === 'symlink' && rec.target === undefined) throw bad('is a symlink without target')
  if (rec.type === 'hardlink') {
    if (rec.target === undefined || pathProblem(rec.target)) throw bad('is a bad hard link')
  }
  if (x.rdev !== undefined) {
    if (!isDec(x.rdev)) throw bad('has a bad rdev')
    rec.rdev = x.rdev
  }
  if (x.xattrs !== undefined) {
    const xa = parseXattrs(x.xattrs)
    if (!xa) throw bad('has bad xattrs')
    rec.xattrs = xa
  }
  if (rec.type === 'file') {
    if (!Array.isArray(x.content)) throw bad('is a file without content list')
    let sum = 0
    rec.content = (x.content as unknown[]).map((s) => {
      if (!Array.isArray(s) || s.length !== 4) throw bad('has a malformed slice')
      const [id, size, off, len] = s as unknown[]
      if (!isStr(id) || !ID_RE.test(id)) throw bad('has a slice with a bad chunk id')
      if (!isCount(size) || !isCount(off) || !isCount(len) || len < 1 || off + len > size) {
        throw bad('has a slice out of its chunk')
      }
      sum += len
      // Small files share chunks: one copy of each id string for the whole tree.
      let shared = ids?.get(id)
      if (shared === undefined) ids?.set(id, (shared = id))
      return [shared, size, off, len] as Slice
    })
    if (sum !== rec.size) throw bad(`has slices of ${sum} bytes for a size of ${rec.size}`)
  } else if (rec.size !== 0) throw bad('is not a file but has a size')
  return rec
}

/** One record as its NDJSON line (fields in a fixed order, so an unchanged tree dedups). */
export function recordLine(r: TreeRecord): string {
  const o: Record<string, unknown> = {
    path: r.path,
    type: r.type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    user: r.user,
    group: r.group,
    mtime_ns: r.mtime_ns,
    ctime_ns: r.ctime_ns,
    size: r.size,
    ino: r.ino,
    dev: r.dev,
    target: r.target,
    rdev: r.rdev,
    xattrs: r.xattrs,
    content: r.content,
  }
  return JSON.stringify(o) + '\n'
}

/**
 * Splits NDJSON bytes into checked records, fed in pieces (chunks); the
 * order rule (depth-first, names in code-unit order, each parent before its
 * children) is checked too, so a reader can rely on it.
 */
export class TreeParser {
  readonly records: TreeRecord[] = []
  private rest = ''
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private readonly ids = new Map<string, string>()
  constructor(private readonly name: string) {}

  push(buf: Buffer): void {
    let text: string
    try {
      text = this.rest + this.decoder.decode(buf, { stream: true })
    } catch {
      throw new VaultError('corrupt', `${this.name} is corrupt: the tree is not UTF-8`)
    }
    const lines = text.split('\n')
    this.rest = lines.pop()!
    for (const line of lines) this.add(line)
  }

  finish(): TreeRecord[] {
    if (this.rest !== '') this.add(this.rest)
    this.rest = ''
    return this.records
  }

  private add(line: string): void {
    if (line === '') return
    const rec = parseRecord(line, this.records.length + 1, this.name, this.ids)
    const prev = this.records[this.records.length - 1]
    if (prev && compareTreePaths(prev.path, rec.path) >= 0) {
      throw new VaultError(
        'corrupt',
        `${this.name} is corrupt: tree entry ${this.records.length + 1} is out of order`,
      )
    }
    this.records.push(rec)
  }
}

/**
 * Tree order: segment by segment, names in UTF-16 code-unit order, a parent
 * before its children ("a" < "a/b" < "a.txt"): what a depth-first walk with
 * sorted names produces.
 */
export function compareTreePaths(a: string, b: string): number {
  const as = a.split('/')
  const bs = b.split('/')
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    if (as[i] !== bs[i]) return as[i]! < bs[i]! ? -1 : 1
  }
  return as.length - bs.length
}

/** Whether path is `dir` itself or inside it ('' is the root: everything). */
export const isWithin = (path: string, dir: string): boolean =>
  dir === '' || path === dir || path.startsWith(dir + '/')

/** The distinct chunks the records' slices reference, in first-use order. */
export function contentChunks(records: Iterable<TreeRecord>): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of records) for (const [id, size] of r.content ?? []) out.set(id, size)
  return out
}

/** Permission bits of a mode as stat reports it. */
export const modeBits = (mode: number): number => mode & 0o7777
