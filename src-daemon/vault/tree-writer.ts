// Over ~300 lines on purpose: writeTree is one pass whose steps share the small-file stream's state (file reading: tree-file-read.ts).
// Writing a directory as a tree archive (docs/vault-format.md "Tree
// archives"). The walk (tree-walk.ts) lists entries in tree order; each
// regular file's bytes go to chunks through the shared chunk sink:
//  - a file of LARGE_FILE bytes or more is chunked on its own (its chunks
//    dedup wherever the same bytes appear again);
//  - smaller files are fed, in tree order, into one shared content-defined
//    stream, and each keeps the byte range it covers as slices. So 50,000
//    small files make a few hundred chunk objects, not 50,000 (each stored
//    object costs an fsync or a request), and an unchanged run of them
//    yields the same chunks again.
// A file whose size, mtime, ctime, inode and device match the previous
// tree's entry for its path keeps that entry's slices without being read
// (unless fullRead), provided the chunk index still knows every chunk.
// Small files are read several at a time ahead of the stream; a file that
// changes while read (size or times differ after reading, or fewer bytes
// came) fails the backup, as tar's "file changed as we read it" does.
// Finally the tree's NDJSON is chunked the same way and the manifest lists
// every distinct chunk the archive references, so GC, verify and chunk
// counts need no special case.
import { lstat, readlink } from 'node:fs/promises'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import { Chunker, gearTable } from './chunker'
import { ChunkSink, PutWindow, type SinkOptions } from './chunk-sink'
import type { VaultConfig } from './config'
import { manifestKey, sealManifest, type Manifest } from './objects'
import { TREE_VERSION, recordLine, type Slice, type TreeRecord, type TreeRoot } from './tree'
import { TYPE_OF, changed, checkUnchanged, ns, openEntry, readSmall } from './tree-file-read'
import { OwnerNames, walkProblem, walkTree, type WalkEntry, type WalkOptions } from './tree-walk'
import { readXattrs, type Xattrs } from './tree-xattrs'

/**
 * Files from this size on are chunked on their own. With chunks of 128 KiB
 * to 2 MiB (512 KiB on average), a 1 MiB file gets about two chunks of its
 * own; a smaller one would mostly be one object per file (the cost the shared
 * stream avoids), and would dedup no better than inside the stream.
 */
export const LARGE_FILE = 1024 * 1024
/** Small files read ahead of the stream at once. */
const READ_AHEAD = 32
/** Bytes read from a large file at a time. */
const READ_BLOCK = 1024 * 1024

export interface TreeWriteOptions extends SinkOptions {
  config: VaultConfig
  walk: Omit<WalkOptions, 'signal' | 'log'>
  /** The previous archive's tree (same job), for reuse by metadata. */
  previous?: TreeRecord[]
  /** Read every file even when its metadata is unchanged. */
  fullRead?: boolean
  manifest: Omit<Manifest, 'chunks' | 'size' | 'vault' | 'tree'>
  onProgress?(bytes: number, files: number): void
  /** Chunk puts in flight at once. */
  concurrency?: number
}

export interface TreeWriteStats {
  manifestKey: string
  /** Plaintext bytes of every distinct chunk referenced (manifest size). */
  size: number
  chunks: number
  newChunks: number
  newBytes: number
  storedBytes: number
  entries: number
  files: number
  /** Sum of the regular files' sizes. */
  bytes: number
  /** Files kept from the previous tree without reading them. */
  reused: number
  /** Files read that the previous tree had (changed, or fullRead). */
  read: number
  /** Files read that the previous tree did not have. */
  added: number
  /** Bytes read from files. */
  readBytes: number
}

interface Pending {
  rec: TreeRecord
  /** Small file: its range in the shared stream. */
  range?: [number, number]
  /** Large file: its chunks, as their ids come. */
  own?: { id: Promise<string>; size: number }[]
}

export async function writeTree(opts: TreeWriteOptions): Promise<TreeWriteStats> {
  const { store, endpoint, config, master } = opts
  const signal = opts.ctx.signal
  const mkey = manifestKey(opts.manifest.archive)
  const gear = gearTable(master.idKey)
  const sink = new ChunkSink(opts)
  const window = new PutWindow(Math.max(1, opts.concurrency ?? 8), signal)
  const names = new OwnerNames()
  await names.load()
  const before = new Map((opts.previous ?? []).map((r) => [r.path, r]))
  const links = new Map<string, string>() // "dev:ino" of a multiply linked file → its first path
  const pending: Pending[] = []
  const stats = { reused: 0, read: 0, added: 0, readBytes: 0, files: 0, bytes: 0 }

  // The shared stream of small files: its chunks with their stream offsets.
  const small = new Chunker(gear, config.chunking)
  const smallChunks: { start: number; size: number; id: Promise<string> }[] = []
  let smallPos = 0 // bytes pushed
  let smallCut = 0 // bytes emitted as chunks
  const put = async (chunk: Buffer) => {
    const size = chunk.length
    const { done } = await window.submit((s) => sink.put(chunk, s))
    return { id: done, size }
  }
  const emitted: Buffer[] = []
  const collect = (c: Buffer) => void emitted.push(c)
  const flushSmall = async () => {
    for (const c of emitted.splice(0)) {
      const start = smallCut
      smallCut += c.length
      smallChunks.push({ start, ...(await put(c)) })
    }
  }

  const progress = () => opts.onProgress?.(stats.readBytes, stats.files)

  /** A large file, read in blocks through a chunker of its own. */
  const readLarge = async (e: WalkEntry, p: Pending) => {
    const chunker = new Chunker(gear, config.chunking)
    const own: Pending['own'] = []
    let got = 0
    const fh = await openEntry(e)
    try {
      const out: Buffer[] = []
      for (;;) {
        if (window.signal.aborted) throw new PluginAbortedError()
        const buf = Buffer.allocUnsafe(READ_BLOCK)
        const { bytesRead } = await fh.read(buf, 0, READ_BLOCK, null)
        if (bytesRead === 0) break
        got += bytesRead
        if (got > Number(e.st.size)) throw changed(e.abs, `grew past ${e.st.size} bytes`)
        chunker.push(buf.subarray(0, bytesRead), (c) => void out.push(c))
        for (const c of out.splice(0)) own.push(await put(c))
        stats.readBytes += bytesRead
        progress()
      }
      chunker.finish((c) => void out.push(c))
      for (const c of out.splice(0)) own.push(await put(c))
      checkUnchanged(e.abs, e.st, await fh.stat({ bigint: true }), got)
    } finally {
      await fh.close().catch(() => undefined)
    }
    p.own = own
  }

  /** Chunks the index confirmed (small files share chunks: each is asked once). */
  const known = new Set<string>()
  /** Whether the previous tree's slices can stand for this file's bytes. */
  const reusable = async (rec: TreeRecord): Promise<Slice[] | undefined> => {
    if (opts.fullRead) return undefined
    const old = before.get(rec.path)
    if (!old || old.type !== 'file' || !old.content) return undefined
    const same =
      old.size === rec.size &&
      old.mtime_ns === rec.mtime_ns &&
      old.ctime_ns === rec.ctime_ns &&
      old.ino === rec.ino &&
      old.dev === rec.dev
    if (!same) return undefined
    // The index is the store's hint: a chunk it forgot (found damaged, or gone
    // after a GC) must not be referenced without being written again.
    for (const [id] of old.content) {
      if (known.has(id)) continue
      if (!(await opts.index.has(id))) return undefined
      known.add(id)
    }
    return old.content
  }

  /** Read-ahead of small files: each entry's read starts as it is listed; they are consumed in order. */
  const queue: { e: WalkEntry; p: Pending; data?: Promise<Buffer> }[] = []
  const consume = async (item: (typeof queue)[number]) => {
    const { e, p } = item
    if (item.data) {
      const buf = await item.data
      const start = smallPos
      small.push(buf, collect)
      smallPos += buf.length
      p.range = [start, smallPos]
      stats.readBytes += buf.length
      await flushSmall()
      progress()
    } else if (p.rec.type === 'file' && !p.rec.content && p.rec.size >= LARGE_FILE) {
      await readLarge(e, p)
    }
  }

  // Extended attributes: one getfattr over the whole tree while it is walked.
  const xattrs = readXattrs(opts.walk.root, window.signal)
  xattrs.catch(() => undefined) // awaited after the walk
  try {
    // The directory's own metadata (it has no entry), as it was when the walk began.
    const rootSt = await lstat(opts.walk.root, { bigint: true }).catch((err: unknown) => {
      throw walkProblem(err, opts.walk.root)
    })
    const root: TreeRoot = {
      mode: Number(rootSt.mode) & 0o7777,
      uid: Number(rootSt.uid),
      gid: Number(rootSt.gid),
      user: names.user(Number(rootSt.uid)),
      group: names.group(Number(rootSt.gid)),
      mtime_ns: rootSt.mtimeNs.toString(),
    }
    for await (const e of walkTree({ ...opts.walk, signal: window.signal, log: opts.ctx.log })) {
      if (window.signal.aborted) throw new PluginAbortedError()
      const st = e.st
      let type = TYPE_OF(st)
      if (!type) continue
      const rec: TreeRecord = {
        path: e.path,
        type,
        mode: Number(st.mode) & 0o7777,
        uid: Number(st.uid),
        gid: Number(st.gid),
        user: names.user(Number(st.uid)),
        group: names.group(Number(st.gid)),
        ...ns(st),
        size: 0,
      }
      const p: Pending = { rec }
      pending.push(p)
      if (type === 'symlink') {
        rec.target = await readlink(e.abs).catch((err: unknown) => {
          throw walkProblem(err, e.abs)
        })
      } else if (type === 'chardev' || type === 'blockdev') rec.rdev = st.rdev.toString()
      if (type === 'file' && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`
        const first = links.get(key)
        if (first !== undefined) {
          rec.type = type = 'hardlink'
          rec.target = first
        } else links.set(key, e.path)
      }
      let data: Promise<Buffer> | undefined
      if (type === 'file') {
        rec.size = Number(st.size)
        stats.files++
        stats.bytes += rec.size
        const kept = await reusable(rec)
        if (kept) {
          rec.content = kept
          for (const [id] of kept) sink.reference(id)
          stats.reused++
        } else {
          if (before.get(rec.path)?.type === 'file') stats.read++
          else stats.added++
          if (rec.size < LARGE_FILE && rec.size > 0) {
            data = readSmall(e)
            data.catch(() => undefined) // awaited in order by consume
          } else if (rec.size === 0) rec.content = []
        }
      }
      queue.push({ e, p, data })
      while (queue.length >= READ_AHEAD) await consume(queue.shift()!)
    }
    while (queue.length > 0) await consume(queue.shift()!)
    small.finish(collect)
    await flushSmall()
    await window.drain()

    // Every id is known now: each file's slices.
    const ids = await Promise.all(smallChunks.map((c) => c.id))
    let ci = 0
    for (const p of pending) {
      if (p.range) {
        const [start, end] = p.range
        const content: Slice[] = []
        while (smallChunks[ci]!.start + smallChunks[ci]!.size <= start) ci++
        for (let j = ci; j < smallChunks.length && smallChunks[j]!.start < end; j++) {
          const c = smallChunks[j]!
          const from = Math.max(start, c.start)
          const to = Math.min(end, c.start + c.size)
          content.push([ids[j]!, c.size, from - c.start, to - from])
        }
        p.rec.content = content
      } else if (p.own) {
        const own = await Promise.all(p.own.map((c) => c.id))
        p.rec.content = p.own.map((c, j): Slice => [own[j]!, c.size, 0, c.size])
      }
    }

    const { byPath, problem } = await xattrs
    if (problem) opts.ctx.log(problem)
    // Names sorted, so an unchanged tree serializes (and dedups) the same.
    const sorted = (xa: Xattrs | undefined) =>
      xa && Object.fromEntries(Object.entries(xa).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    root.xattrs = sorted(byPath.get(''))
    for (const p of pending) p.rec.xattrs = sorted(byPath.get(p.rec.path))

    // The tree itself, chunked like any stream: an unchanged tree makes the same chunks.
    const treeChunker = new Chunker(gear, config.chunking)
    const treeChunks: { id: Promise<string>; size: number }[] = []
    const out: Buffer[] = []
    let text = ''
    const pushText = async (last: boolean) => {
      treeChunker.push(Buffer.from(text), (c) => void out.push(c))
      text = ''
      if (last) treeChunker.finish((c) => void out.push(c))
      for (const c of out.splice(0)) treeChunks.push(await put(c))
    }
    for (const p of pending) {
      text += recordLine(p.rec)
      if (text.length >= 1 << 20) await pushText(false)
    }
    await pushText(true)
    await window.drain()
    const treeList: [string, number][] = []
    for (const c of treeChunks) treeList.push([await c.id, c.size])

    const all = new Map<string, number>()
    for (const p of pending) for (const [id, size] of p.rec.content ?? []) all.set(id, size)
    for (const [id, size] of treeList) all.set(id, size)
    const chunks = [...all]
    const size = chunks.reduce((n, c) => n + c[1], 0)
    if (signal.aborted) throw new PluginAbortedError()
    const manifest: Manifest = {
      ...opts.manifest,
      version: 1,
      vault: config.id,
      size,
      chunks,
      tree: {
        version: TREE_VERSION,
        chunks: treeList,
        entries: pending.length,
        files: stats.files,
        bytes: stats.bytes,
        root,
      },
    }
    const sealed = sealManifest(master, manifest)
    await store.put(endpoint, mkey, retryableBody([sealed]), { ...opts.ctx, signal: window.signal })
    return {
      manifestKey: mkey,
      size,
      chunks: chunks.length,
      newChunks: sink.stats.newChunks,
      newBytes: sink.stats.newBytes + sealed.length,
      storedBytes: sink.stats.storedBytes,
      entries: pending.length,
      ...stats,
    }
  } catch (err) {
    window.fail(err)
    await window.drain().catch(() => undefined)
    if (signal.aborted) throw new PluginAbortedError()
    throw err
  } finally {
    await sink.close()
  }
}
