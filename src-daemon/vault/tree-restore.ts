// Over ~300 lines on purpose: one restore pass whose steps (files, links, directory metadata last) share its plan (tree-restore-plan.ts).
// Restoring a tree archive, whole or in part, into a directory. Nothing is
// written through a symlink: every directory on the way is checked with
// lstat (a symlink or a file where the archive has a directory is a
// conflict), files and links are made under fresh temporary names (created
// exclusively, so never through an existing name) in their own directory and
// renamed into place. Conflicts (something already at a path the restore
// writes) are all found before the first write (tree-restore-plan.ts):
// `refuse` stops there naming them, `overwrite` replaces them, `keep-both`
// writes the restored entry beside as "name.restored-YYYYMMDD-HHMMSS.ext".
// Directories get their modes and times last, deepest first, so writing
// into them does not change them.
// A failure removes the temporary files and says what was restored.
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  chown,
  lchown,
  link,
  lutimes,
  mkdir,
  open,
  rename,
  rm,
  rmdir,
  symlink,
  chmod,
  utimes,
  unlink,
} from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { PluginContext } from '../../plugins/sdk/types'
import type { RestoreConflict } from '../contract/tree'
import { mapLimit } from '../platform/concurrency'
import { VaultError } from './objects'
import type { ChunkCache } from './tree-read'
import type { TreeRecord, TreeRoot } from './tree'
import { kindAt, planRestore, selectRecords } from './tree-restore-plan'
import { SparseWriter } from './tree-sparse-write'
import { writeXattrs, type Xattrs } from './tree-xattrs'

const run = promisify(execFile)

export interface TreeRestoreOptions {
  records: TreeRecord[]
  /** Normalized paths inside the archive ('' or absent: everything). */
  paths?: string[]
  /** Absolute directory to restore into (created if missing). */
  dest: string
  conflict: RestoreConflict
  cache: ChunkCache
  ctx: PluginContext
  /** For keep-both names. */
  now: number
  /** Restore owners (only root can). */
  owners?: boolean
  /** Files written at once. */
  concurrency?: number
  onProgress?(bytes: number): void
  /**
   * The backed-up directory's own metadata (absent in older archives): given
   * to dest when the whole tree is restored, never by a restore of some paths.
   */
  root?: TreeRoot
}

export interface TreeRestoreResult {
  entries: number
  files: number
  bytes: number
  /** Entries written beside an existing one (keep-both). */
  kept: number
  /** Existing entries replaced (overwrite). */
  replaced: number
}

/**
 * Removes what a failed restore added: its files and links, then its
 * directories deepest first (rmdir: only if empty, so nothing of anyone
 * else's goes), and `dest` if the restore created it. Returns how many went.
 */
async function undoCreated(files: string[], dirs: string[], dest: string): Promise<number> {
  let n = 0
  for (const f of files.reverse()) {
    if (
      await unlink(f).then(
        () => true,
        () => false,
      )
    )
      n++
  }
  for (const d of [...dirs, ...(dest ? [dest] : [])].sort((a, b) => b.length - a.length)) {
    if (
      await rmdir(d).then(
        () => true,
        () => false,
      )
    )
      n++
  }
  return n
}

/**
 * Node's utimes takes seconds as a double (about 0.24 µs apart at today's
 * dates), so times are restored to the microsecond: aiming at the middle of
 * the microsecond keeps the rounding inside it.
 */
const nsToSeconds = (ns: string): number => (Number(BigInt(ns) / 1000n) + 0.5) / 1e6

export async function restoreTree(opts: TreeRestoreOptions): Promise<TreeRestoreResult> {
  const { dest, ctx } = opts
  const signal = ctx.signal
  const selected = selectRecords(opts.records, opts.paths)
  const byPath = new Map(opts.records.map((r) => [r.path, r]))
  const abs = (rel: string) => `${dest}/${rel}`

  const { destKind, target, conflicts, existingDirs, blocked } = await planRestore(opts, selected)

  const conflicting = new Set(conflicts)
  // What this restore made where nothing was: removed again if it fails.
  const createdFiles: string[] = []
  const createdDirs: string[] = []
  const temps = new Set<string>()
  const result: TreeRestoreResult = { entries: 0, files: 0, bytes: 0, kept: 0, replaced: 0 }
  const madeDirs = new Map<string, TreeRecord>()
  // Unique per restore (a random prefix) and per file (a counter); created with O_EXCL anyway.
  const prefix = randomBytes(4).toString('hex')
  let serial = 0
  const tmpName = (final: string) =>
    `${dirname(final)}/.${basename(final).slice(0, 200)}.bulwark-${prefix}-${(serial++).toString(36)}`
  // What a new file gets without asking: skip chown and chmod when they would change nothing.
  const umask = process.umask()
  const uid = process.getuid?.()
  const gid = process.getgid?.()

  /** Makes the directory (its parents first); replaces a non-directory when overwriting. */
  const ensureDir = async (rel: string): Promise<void> => {
    if (rel === '' || existingDirs.has(rel)) return
    await ensureDir(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '')
    if (blocked.has(rel)) {
      await rm(abs(rel), { force: true }) // a file or symlink: removed, never followed
      blocked.delete(rel)
      result.replaced++
    }
    try {
      await mkdir(abs(rel), { mode: 0o700 })
      createdDirs.push(abs(rel))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if ((await kindAt(abs(rel))) !== 'dir') {
        throw new PluginError(`${abs(rel)} appeared during the restore and is not a directory`)
      }
    }
    existingDirs.add(rel)
    const rec = byPath.get(rel)
    if (rec?.type === 'dir') madeDirs.set(rel, rec)
  }

  /** Puts tmp in place of final (an existing directory there is removed first when overwriting). */
  const place = async (tmp: string, final: string, rel: string) => {
    try {
      await rename(tmp, final)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (
        (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') ||
        opts.conflict !== 'overwrite'
      )
        throw err
      await rm(final, { recursive: true, force: true })
      await rename(tmp, final)
    }
    temps.delete(tmp)
    if (final !== abs(rel)) result.kept++
    else if (conflicting.has(rel)) result.replaced++
    if (final !== abs(rel) || !conflicting.has(rel)) createdFiles.push(final)
    result.entries++
  }

  const writeFile = async (r: TreeRecord, source: TreeRecord, final: string) => {
    const tmp = tmpName(final)
    temps.add(tmp)
    // Created private; opened with the final permissions only when umask keeps them all.
    const plain = (r.mode & 0o777 & umask) === 0 && (r.mode & 0o7000) === 0
    const fh = await open(tmp, 'wx', plain ? r.mode & 0o777 : 0o600)
    try {
      const slices = source.content ?? []
      const out = new SparseWriter()
      for (let i = 0; i < slices.length;) {
        // A few slices at a time, fetched together (small files: usually all of them).
        const batch = slices.slice(i, i + 4)
        i += batch.length
        const bufs = await Promise.all(batch.map((s) => opts.cache.slice(s, ctx)))
        const before = out.size
        for (const b of bufs) out.add(b)
        await out.flush(fh)
        result.bytes += out.size - before
        opts.onProgress?.(result.bytes)
      }
      // A hole at the end is not written either: the size makes it.
      if (out.end < out.size) await fh.truncate(out.size)
      if (opts.owners && (r.uid !== uid || r.gid !== gid)) await fh.chown(r.uid, r.gid)
      if (!plain) await fh.chmod(r.mode)
      await fh.utimes(nsToSeconds(r.mtime_ns), nsToSeconds(r.mtime_ns))
    } finally {
      await fh.close()
    }
    await place(tmp, final, r.path)
    result.files++
  }

  const writeOther = async (r: TreeRecord, final: string) => {
    const tmp = tmpName(final)
    temps.add(tmp)
    if (r.type === 'symlink') {
      await symlink(r.target!, tmp)
      if (opts.owners) await lchown(tmp, r.uid, r.gid)
      const t = nsToSeconds(r.mtime_ns)
      await lutimes(tmp, t, t)
    } else if (r.type === 'hardlink') {
      await link(target.get(r.target!)!, tmp)
    } else {
      // fifo and devices: Node has no mknod; the system's tools make them.
      const args =
        r.type === 'fifo'
          ? ['mkfifo', ['-m', (r.mode & 0o777).toString(8), tmp]]
          : (() => {
              const dev = BigInt(r.rdev ?? '0')
              const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
              const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
              const kind = r.type === 'chardev' ? 'c' : 'b'
              return [
                'mknod',
                ['-m', (r.mode & 0o777).toString(8), tmp, kind, `${major}`, `${minor}`],
              ]
            })()
      await run(args[0] as string, args[1] as string[], { signal })
      if (opts.owners) await chown(tmp, r.uid, r.gid)
      await chmod(tmp, r.mode)
      const t = nsToSeconds(r.mtime_ns)
      await utimes(tmp, t, t)
    }
    await place(tmp, final, r.path)
  }

  try {
    if (destKind === 'missing') await mkdir(dest, { recursive: true, mode: 0o700 })
    const files: TreeRecord[] = []
    const later: TreeRecord[] = []
    for (const r of selected) {
      if (!target.has(r.path)) continue
      if (r.type === 'dir') {
        await ensureDir(r.path)
        madeDirs.set(r.path, r) // an existing directory gets the archive's mode and times too
        result.entries++
        continue
      }
      await ensureDir(r.path.includes('/') ? r.path.slice(0, r.path.lastIndexOf('/')) : '')
      // A hard link to an entry this restore does not write becomes a copy of its content.
      if (r.type === 'hardlink' && !target.has(r.target!)) {
        const first = byPath.get(r.target!)
        if (first?.type === 'file')
          files.push({ ...r, type: 'file', content: first.content, size: first.size })
        continue
      }
      ;(r.type === 'file' ? files : later).push(r)
    }
    for (const f of files) opts.cache.want(f.content ?? [])
    await mapLimit(
      files,
      opts.concurrency ?? 16,
      (r) => writeFile(r, r, target.get(r.path)!),
      signal,
    )
    // Links after the files they point at.
    for (const r of later) {
      if (signal.aborted) throw new PluginAbortedError()
      await writeOther(r, target.get(r.path)!)
    }
    const whole = !opts.paths || opts.paths.length === 0 || opts.paths.includes('')
    // Extended attributes in one setfattr, before the directories' modes can shut it out.
    const xattrs: [string, Xattrs][] = []
    for (const r of selected) {
      const final = target.get(r.path)
      if (!r.xattrs || final === undefined) continue
      // A hard link shares its first path's attributes, unless restored as a copy.
      if (r.type === 'hardlink' && target.has(r.target!)) continue
      xattrs.push([final, r.xattrs])
    }
    if (whole && opts.root?.xattrs) xattrs.push([dest, opts.root.xattrs])
    const problem = await writeXattrs(xattrs, signal)
    if (problem) ctx.log(problem)
    // Deepest first (a child's path is longer than its parent's); dest itself last.
    const dirs: Pick<TreeRecord, 'path' | 'mode' | 'uid' | 'gid' | 'mtime_ns'>[] = [
      ...madeDirs.values(),
    ]
    dirs.sort((a, b) => b.path.length - a.path.length)
    if (whole && opts.root) dirs.push({ ...opts.root, path: '' })
    for (const d of dirs) {
      const p = d.path === '' ? dest : abs(d.path)
      if (opts.owners) await chown(p, d.uid, d.gid)
      await chmod(p, d.mode)
      const t = nsToSeconds(d.mtime_ns)
      await utimes(p, t, t)
    }
    return result
  } catch (err) {
    await Promise.all([...temps].map((t) => unlink(t).catch(() => undefined)))
    // What this restore added is taken away again (files it replaced stay replaced).
    const removed = await undoCreated(createdFiles, createdDirs, destKind === 'missing' ? dest : '')
    if (signal.aborted) throw new PluginAbortedError()
    const cause = err instanceof Error ? err.message : String(err)
    const replaced = result.replaced
      ? `; ${result.replaced} existing entries it had replaced stay replaced`
      : ''
    const message = `the restore into ${dest} failed after ${result.entries} of ${selected.length} entries; the ${removed} it had added were removed again${replaced}, and no temporary file is left: ${cause}`
    // Damage stays a VaultError naming its object, so the chunk index forgets that chunk.
    if (err instanceof VaultError) {
      throw new VaultError(err.code, message, { cause: err, key: err.key })
    }
    throw new PluginError(message, err instanceof PluginError ? err.kind : 'permanent', {
      cause: err,
    })
  }
}
