// Reading a tree archive: its tree (the NDJSON chunks the manifest names,
// authenticated and checked entry by entry) and a file's bytes (its slices,
// each cut out of an authenticated chunk). Restores, browsing and downloads
// all come through here. A ChunkCache shares chunks between the files that
// reference them (small files share chunks), fetching each once while it is
// still wanted.
import { setMaxListeners } from 'node:events'
import { Readable } from 'node:stream'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import type { PluginContext } from '../../plugins/sdk/types'
import type { ChunkOpener } from './chunk-pool'
import { VaultError, type Manifest } from './objects'
import { loadChunk, readManifest, type ReadOptions } from './reader'
import { TreeParser, type Slice, type TreeRecord } from './tree'

/** The manifest of a tree archive, refusing one that has no tree. */
export async function readTreeManifest(opts: ReadOptions): Promise<Manifest> {
  const manifest = await readManifest(opts)
  if (!manifest.tree) {
    throw new VaultError(
      'unsupported',
      `archive ${opts.archiveUuid} is not a directory (tree) archive`,
    )
  }
  return manifest
}

/** The tree's records in tree order, every chunk authenticated, every entry checked. */
export async function readTreeRecords(
  opts: ReadOptions,
  manifest: Manifest,
  chunks: ChunkOpener,
): Promise<TreeRecord[]> {
  const name = `archive ${opts.archiveUuid}: tree`
  const parser = new TreeParser(name)
  const list = manifest.tree!.chunks
  // A few chunks fetched ahead, parsed in order.
  const pending: Promise<Buffer>[] = []
  const load = (i: number) => {
    const [id, size] = list[i]!
    const what = `${name} chunk ${id.slice(0, 12)} (#${i + 1} of ${list.length})`
    const p = loadChunk(opts, id, size, opts.ctx, chunks, what)
    p.catch(() => undefined)
    pending[i] = p
  }
  for (let i = 0; i < Math.min(4, list.length); i++) load(i)
  for (let i = 0; i < list.length; i++) {
    const buf = await pending[i]!
    delete pending[i]
    if (i + 4 < list.length) load(i + 4)
    parser.push(buf)
  }
  const records = parser.finish()
  if (records.length !== manifest.tree!.entries) {
    throw new VaultError(
      'corrupt',
      `${name} is corrupt: it holds ${records.length} entries, the manifest says ${manifest.tree!.entries}`,
    )
  }
  return records
}

/**
 * Chunks fetched once and kept while wanted: each has a count of the slices
 * still to read from it (want), and is dropped when that falls to zero, or
 * (oldest first) when the cache holds more than maxBytes.
 */
export class ChunkCache {
  private readonly held = new Map<string, { p: Promise<Buffer>; size: number }>()
  private readonly wanted = new Map<string, number>()
  private bytes = 0

  constructor(
    private readonly opts: Pick<ReadOptions, 'store' | 'endpoint' | 'archiveUuid'>,
    private readonly opener: ChunkOpener,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** Notes that the slices will be read (once each), so their chunks stay until then. */
  want(slices: Slice[]): void {
    for (const [id] of slices) this.wanted.set(id, (this.wanted.get(id) ?? 0) + 1)
  }

  /** The slice's bytes; a slice announced with want is counted as read. */
  async slice(s: Slice, ctx: PluginContext, counted = true): Promise<Buffer> {
    const [id, size, offset, length] = s
    let entry = this.held.get(id)
    if (!entry) {
      const what = `archive ${this.opts.archiveUuid}: chunk ${id.slice(0, 12)}`
      const p = loadChunk(this.opts, id, size, ctx, this.opener, what)
      entry = { p, size }
      this.held.set(id, entry)
      this.bytes += size
      p.catch(() => this.evict(id))
      this.trim(id)
    }
    const chunk = await entry.p
    if (counted) {
      const left = (this.wanted.get(id) ?? 1) - 1
      if (left <= 0) {
        this.wanted.delete(id)
        this.evict(id)
      } else this.wanted.set(id, left)
    }
    return chunk.subarray(offset, offset + length)
  }

  private evict(id: string): void {
    const e = this.held.get(id)
    if (!e) return
    this.held.delete(id)
    this.bytes -= e.size
  }

  /** Drops the oldest chunks (not `keep`) while over the limit; they are fetched again if needed. */
  private trim(keep: string): void {
    for (const id of this.held.keys()) {
      if (this.bytes <= this.maxBytes) return
      if (id !== keep) this.evict(id)
    }
  }
}

/**
 * A file's bytes as a stream, a few slices fetched ahead. Destroying it stops
 * the fetches; aborting ctx fails it.
 */
export function fileStream(
  record: TreeRecord,
  cache: ChunkCache,
  ctx: PluginContext,
  readAhead = 4,
): Readable {
  const slices = record.content ?? []
  const stop = new AbortController()
  const signal = AbortSignal.any([ctx.signal, stop.signal])
  setMaxListeners(readAhead + 10, signal)
  const sctx = { ...ctx, signal }
  const pending: Promise<Buffer>[] = []
  let next = 0
  let started = 0
  const fill = () => {
    while (started < slices.length && started < next + readAhead) {
      const p = cache.slice(slices[started]!, sctx, false)
      p.catch(() => undefined)
      pending[started++] = p
    }
  }
  const stream = new Readable({
    highWaterMark: 0,
    read() {
      if (next >= slices.length) return void this.push(null)
      fill()
      const i = next++
      pending[i]!.then(
        (buf) => {
          delete pending[i]
          if (!this.destroyed) this.push(buf)
        },
        (err: Error) => this.destroy(signal.aborted ? new PluginAbortedError() : err),
      )
    },
    destroy(err, cb) {
      stop.abort()
      cb(err)
    },
  })
  return stream
}
