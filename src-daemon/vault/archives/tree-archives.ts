// Directory archives (format 'tree'): a tree manifest of entries, each file
// chunked on its own. Read whole for browsing and restores (kept a while:
// archives never change), or one file at a time.
import type { Readable } from 'node:stream'
import { VaultError, type Manifest } from '../objects'
import { opener, type ReadOptions } from '../reader'
import type { TreeRecord } from '../tree'
import { ChunkCache, fileStream, readTreeManifest, readTreeRecords } from '../tree-read'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { VaultSessions } from './sessions'
import type { ArchiveRef, StoreHandle, VaultSession } from './types'

/** How long a tree read for browsing or a restore stays in memory after its last use. */
const TREE_IDLE_MS = 2 * 60_000

export class TreeArchives {
  /**
   * Recently read trees: browsing pages through one tree many times. A
   * 50,000-file tree is tens of MiB, so they are kept only while used:
   * dropped TREE_IDLE_MS after their last read.
   */
  private readonly trees = new Map<
    string,
    { records: Promise<TreeRecord[]>; timer?: NodeJS.Timeout }
  >()

  constructor(private readonly sessions: VaultSessions) {}

  /**
   * A tree archive's records in tree order (depth-first, names in code-unit
   * order), authenticated; read under a shared store lock.
   */
  async read(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<TreeRecord[]> {
    const known = this.trees.get(archive.uuid)
    if (known) {
      this.keep(archive.uuid)
      return known.records
    }
    const reading = this.sessions.with(
      store,
      ctx,
      { operation: 'restore', exclusive: false },
      async (s) => (await this.load(store, archive, s)).records,
    )
    this.trees.set(archive.uuid, { records: reading })
    this.keep(archive.uuid)
    reading.catch(() => this.trees.delete(archive.uuid))
    // The two newest stay (a diff reads two); older ones are dropped.
    while (this.trees.size > 2) {
      const oldest = this.trees.keys().next().value!
      clearTimeout(this.trees.get(oldest)?.timer)
      this.trees.delete(oldest)
    }
    return reading
  }

  /** A tree archive's manifest and records, read in a session the caller holds. */
  async load(
    store: StoreHandle,
    archive: ArchiveRef,
    s: VaultSession,
  ): Promise<{ manifest: Manifest; records: TreeRecord[] }> {
    const opts = this.readOptions(store, archive, s)
    const chunks = opener({ ...opts, workers: 0 })
    try {
      const manifest = await readTreeManifest(opts)
      return { manifest, records: await readTreeRecords(opts, manifest, chunks) }
    } catch (err) {
      this.sessions.forgetDamaged(store.uuid, err, s.ctx)
      throw err
    } finally {
      await chunks.close()
    }
  }

  /** How the vault's readers reach a tree archive in a session. */
  readOptions(store: StoreHandle, archive: ArchiveRef, s: VaultSession): ReadOptions {
    if (archive.format !== 'tree') {
      throw new VaultError(
        'unsupported',
        `archive ${archive.uuid} is not a directory (tree) archive`,
      )
    }
    return {
      store: store.plugin,
      endpoint: store.endpoint,
      ctx: s.ctx,
      master: s.master,
      archiveUuid: archive.uuid,
    }
  }

  /**
   * A file's bytes, from a record read returned: every chunk authenticated
   * before a byte of it is sent; a shared store lock is held until the stream closes.
   */
  async readFile(
    store: StoreHandle,
    archive: ArchiveRef,
    record: TreeRecord,
    ctx: PluginContext,
  ): Promise<Readable> {
    if (record.type !== 'file') {
      throw new VaultError('unsupported', `${record.path} is a ${record.type}, not a file`)
    }
    const { session, end } = await this.sessions.begin(store, ctx, {
      operation: 'restore',
      exclusive: false,
    })
    try {
      const opts = this.readOptions(store, archive, session)
      const chunks = opener({ ...opts, workers: 0 })
      const stream = fileStream(record, new ChunkCache(opts, chunks), session.ctx)
      stream.on('error', (err) => this.sessions.forgetDamaged(store.uuid, err, ctx))
      stream.once('close', () => void chunks.close().finally(end))
      return stream
    } catch (err) {
      await end()
      throw err
    }
  }

  private keep(uuid: string): void {
    const entry = this.trees.get(uuid)
    if (!entry) return
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => this.trees.delete(uuid), TREE_IDLE_MS)
    entry.timer.unref()
  }
}
