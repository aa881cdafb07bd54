// Downloads of part of a tree archive: a file streams as itself (its exact
// size announced), a directory, or the whole tree, as a tar (default, with
// its exact size announced too) or a zip. A folder's entries are named under
// the folder's own name ("docs/a.md"), the whole tree's as they are in the
// archive. A hard link whose first path lies outside the folder becomes a
// copy of that file's content. Every file's bytes are checked against the
// size its header announced: a download never ends short without an error.
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import { invalid, type TreeDownloadPart } from '../contract'
import type { Logger } from '../platform/logger'
import { isWithin, type TreeRecord } from '../vault/tree'
import { archiveStem, safeName } from './archive-download'
import type { ArchiveDownload } from './archives'
import type { TreeFiles } from './tree-files'
import { exactContent, type PackEntry } from './tree-pack'
import { tarLength, tarStream } from './tree-tar'
import { zipRefusal, zipStream } from './tree-zip'
import type { OpenTree } from './trees'

export interface DownloadDeps {
  /** One file record's content (from the vault). */
  open(r: TreeRecord): Promise<Readable>
  /** Many files' contents in one session, for a folder. */
  files(): Promise<TreeFiles>
  /** A vault or store error as the API reports it. */
  failure(err: unknown): unknown
  log: Logger
  /** "download of docs from archive …", for the log. */
  what: string
}

/** A download, with the name of the file or folder as it is in the archive. */
export type TreeDownload = ArchiveDownload & { name?: string }

export async function treeDownload(
  tree: OpenTree,
  path: string,
  format: NonNullable<TreeDownloadPart['format']>,
  deps: DownloadDeps,
): Promise<TreeDownload> {
  const r = path === '' ? null : (tree.index.byPath.get(path) ?? null)
  if (r && r.type !== 'dir') return fileDownload(tree, r, deps)
  let files: TreeFiles | undefined
  const entries = folderEntries(tree, path, (r) => async () => files!.open(r))
  if (format === 'zip') {
    const refusal = zipRefusal(entries)
    if (refusal) throw invalid('format', refusal)
  }
  // Opened before anything is sent, so a vault that does not open is an HTTP error.
  try {
    files = await deps.files()
  } catch (err) {
    throw deps.failure(err)
  }
  const stem =
    path === '' ? archiveStem(tree.archive, 'archive') : safeName(posix.basename(path)) || 'folder'
  const stream = Readable.from(
    logged(format === 'zip' ? zipStream(entries) : tarStream(entries), deps),
  )
  const opened = files
  stream.once('close', () => void opened.close())
  return {
    stream,
    filename: `${stem}.${format}`,
    ...(path === '' ? {} : { name: `${posix.basename(path)}.${format}` }),
    size: format === 'tar' ? tarLength(entries) : null,
  }
}

/** The file's content; a hard link gives the content of the file it shares. */
async function fileDownload(
  tree: OpenTree,
  r: TreeRecord,
  deps: DownloadDeps,
): Promise<TreeDownload> {
  const source = r.type === 'hardlink' ? tree.index.byPath.get(r.target ?? '') : r
  if (!source || source.type !== 'file') {
    const to = r.type === 'symlink' ? ` to ${r.target}` : ''
    throw invalid(
      'path',
      `${r.path} is a ${r.type}${to}: only files and directories can be downloaded`,
    )
  }
  let content: Readable
  try {
    content = await deps.open(source)
  } catch (err) {
    throw deps.failure(err)
  }
  const entry = { ...packEntry(r.path, source), open: async () => content }
  const stream = Readable.from(logged(exactContent(entry), deps))
  // Closed before its first read, the generator never runs its own cleanup.
  stream.once('close', () => content.destroy())
  return {
    stream,
    filename: safeName(posix.basename(r.path)) || 'file',
    name: posix.basename(r.path),
    size: source.size,
  }
}

/** The entries under `dir` (itself first, unless it is the root), named for the download. */
function folderEntries(
  tree: OpenTree,
  dir: string,
  content: (r: TreeRecord) => () => Promise<Readable>,
): PackEntry[] {
  const top = dir === '' ? '' : posix.basename(dir)
  const rename = (p: string) => (dir === '' ? p : top + p.slice(dir.length))
  const out: PackEntry[] = []
  for (const r of tree.index.records) {
    if (!isWithin(r.path, dir)) continue
    const e = packEntry(rename(r.path), r)
    if (r.type === 'file') {
      e.open = content(r)
    } else if (r.type === 'hardlink') {
      const first = tree.index.byPath.get(r.target ?? '')
      if (!first || first.type !== 'file') continue
      // Inside the folder it stays a link; either way zip (which has none) copies it.
      e.size = first.size
      e.open = content(first)
      if (isWithin(first.path, dir)) e.linkTarget = rename(first.path)
      else e.type = 'file'
    }
    out.push(e)
  }
  return out
}

function packEntry(name: string, r: TreeRecord): PackEntry {
  const e: PackEntry = {
    name,
    type: r.type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    mtimeNs: BigInt(r.mtime_ns),
    size: r.type === 'file' ? r.size : 0,
  }
  if (r.user !== undefined) e.user = r.user
  if (r.group !== undefined) e.group = r.group
  if (r.type === 'symlink') e.linkTarget = r.target
  return e
}

/** The download's bytes, its end or failure logged (the client only sees the connection cut). */
async function* logged(bytes: AsyncGenerator<Buffer>, deps: DownloadDeps): AsyncGenerator<Buffer> {
  let sent = 0
  try {
    for await (const buf of bytes) {
      sent += buf.length
      yield buf
    }
  } catch (err) {
    deps.log.warn(`${deps.what} failed after ${sent} bytes: ${(err as Error).message}`)
    throw deps.failure(err)
  }
  deps.log.info(`${deps.what}: ${sent} bytes sent`)
}
