// The vault's façade for tasks and services: how archives are written, read,
// verified and removed, whatever their format. Stores that can hold a vault
// (they can list and stat objects) get chunked, deduplicated, compressed and
// encrypted archives ('vault' for a stream, 'tree' for a directory); external
// protocol stores keep whole-archive blobs ('blob'). Each format has its
// repository (stream-archives.ts, tree-archives.ts, blob-archives.ts); this
// class picks one by format, opens vaults once (opener.ts) and runs work in
// sessions under store locks (sessions.ts). It also turns a store's uuid into
// the handle all of these take, so tasks need nothing else to reach a store.
import type { Readable } from 'node:stream'
import type { Manifest } from '../objects'
import { VaultError, manifestKey } from '../objects'
import type { ReadOptions } from '../reader'
import type { TreeRecord } from '../tree'
import type { ChunkClaims, RemoteChunk } from '../writer'
import type { PluginContext } from '../../../plugins/sdk/types'
import { BlobArchives } from './blob-archives'
import { VaultOpener } from './opener'
import { VaultSessions } from './sessions'
import { StreamArchives } from './stream-archives'
import { TreeArchives } from './tree-archives'
import {
  isVaultFormat,
  type ArchiveRef,
  type NewArchive,
  type OpenedVault,
  type SessionOptions,
  type StoreChunkIndex,
  type StoreHandle,
  type VaultDeps,
  type VaultSession,
  type WrittenArchive,
} from './types'

export class VaultArchives {
  private readonly opener: VaultOpener
  private readonly sessions: VaultSessions
  private readonly blobs: BlobArchives
  private readonly streams: StreamArchives
  private readonly trees: TreeArchives

  constructor(private readonly deps: VaultDeps) {
    this.opener = new VaultOpener(deps)
    this.sessions = new VaultSessions(deps, this.opener)
    this.blobs = new BlobArchives(deps)
    this.streams = new StreamArchives(this.sessions)
    this.trees = new TreeArchives(this.sessions)
  }

  /** A store ready for archive I/O: its plugin, and its endpoint without the vault password. */
  async store(uuid: string): Promise<StoreHandle> {
    const { plugin, endpoint } = this.deps.stores.endpointFor(uuid)
    return {
      uuid,
      plugin: await this.deps.stores.plugin(plugin),
      endpoint,
      vault: await this.deps.stores.canHoldVault(plugin),
    }
  }

  index(storeUuid: string): StoreChunkIndex {
    return this.deps.index(storeUuid)
  }

  /** The store's vault (see opener.ts); with create, a backup's first makes it. */
  open(store: StoreHandle, ctx: PluginContext, opts: { create?: boolean } = {}) {
    return this.opener.open(store, ctx, opts)
  }

  /** Forgets an opened vault's key (after its password or endpoint changed). */
  forget(storeUuid: string): void {
    this.opener.forget(storeUuid)
  }

  /** Keeps a vault the caller opened itself (an import), so the first task needs no unlock. */
  remember(storeUuid: string, vault: OpenedVault): void {
    this.opener.remember(storeUuid, vault)
  }

  /** Opens the vault and takes a store lock; `end` releases it (see sessions.ts). */
  beginSession(store: StoreHandle, ctx: PluginContext, opts: SessionOptions) {
    return this.sessions.begin(store, ctx, opts)
  }

  /** Runs fn in a session; a lost lock becomes fn's error. */
  withSession<T>(
    store: StoreHandle,
    ctx: PluginContext,
    opts: SessionOptions,
    fn: (session: VaultSession) => Promise<T>,
  ): Promise<T> {
    return this.sessions.with(store, ctx, opts, fn)
  }

  /** Forgets a chunk a reader found missing or damaged, so the next backup uploads it again. */
  forgetDamaged(storeUuid: string, err: unknown, ctx: PluginContext): void {
    this.sessions.forgetDamaged(storeUuid, err, ctx)
  }

  /** Writes an archive: a blob, or (vault stores) chunks and a manifest in the given session. */
  async write(
    store: StoreHandle,
    archive: NewArchive,
    data: Readable | ((claims: ChunkClaims) => AsyncIterable<RemoteChunk>),
    ctx: PluginContext,
    session?: VaultSession,
  ): Promise<WrittenArchive> {
    if (!store.vault) {
      if (typeof data === 'function') throw new Error('chunks from an agent need a vault')
      return this.blobs.write(store, archive, data, ctx)
    }
    if (session) return this.streams.write(store, archive, data, session)
    const opts = { operation: 'backup', exclusive: false, create: true, syncIndex: true }
    return this.sessions.with(store, ctx, opts, (s) => this.streams.write(store, archive, data, s))
  }

  /**
   * The archive's bytes. A vault archive is read under a shared store lock,
   * released when the stream closes; a chunk found missing or damaged is
   * forgotten by the index.
   */
  async read(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<Readable> {
    if (archive.format === 'blob') return this.blobs.read(store, archive, ctx)
    if (archive.format === 'tree') {
      throw new VaultError(
        'unsupported',
        `archive ${archive.uuid} is a directory (tree) archive: it is read entry by entry, not as one stream`,
      )
    }
    if (archive.format !== 'vault') return store.plugin.get(store.endpoint, archive.store_key, ctx)
    return this.streams.read(store, archive, ctx)
  }

  /** A tree archive's records in tree order, authenticated (kept a while for browsing). */
  readTree(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<TreeRecord[]> {
    return this.trees.read(store, archive, ctx)
  }

  /** A tree archive's manifest and records, read in a session the caller holds. */
  loadTree(
    store: StoreHandle,
    archive: ArchiveRef,
    s: VaultSession,
  ): Promise<{ manifest: Manifest; records: TreeRecord[] }> {
    return this.trees.load(store, archive, s)
  }

  /** How the vault's readers reach a tree archive in a session. */
  readOptions(store: StoreHandle, archive: ArchiveRef, s: VaultSession): ReadOptions {
    return this.trees.readOptions(store, archive, s)
  }

  /** A file's bytes, from a record readTree returned, under a shared lock until it closes. */
  readTreeFile(
    store: StoreHandle,
    archive: ArchiveRef,
    record: TreeRecord,
    ctx: PluginContext,
  ): Promise<Readable> {
    return this.trees.readFile(store, archive, record, ctx)
  }

  /** Removes the archive from the store: its blob, or its manifest (chunks go to GC). */
  async remove(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<void> {
    const key = isVaultFormat(archive.format) ? manifestKey(archive.uuid) : archive.store_key
    await store.plugin.delete(store.endpoint, key, ctx)
  }

  /**
   * Reads every byte of the archive back, authenticating it. onRead hears the
   * bytes read from the store so far (for a vault archive: its chunk objects
   * as stored, compressed and encrypted), as they come.
   */
  async verify(
    store: StoreHandle,
    archive: ArchiveRef,
    ctx: PluginContext,
    onRead: (bytes: number) => void = () => undefined,
  ): Promise<{ chunks: number; bytes: number }> {
    if (isVaultFormat(archive.format)) return this.streams.verify(store, archive, ctx, onRead)
    let bytes = 0
    for await (const chunk of await this.read(store, archive, ctx)) {
      bytes += (chunk as Buffer).length
      onRead(bytes)
    }
    if (archive.size !== null && bytes !== archive.size) {
      throw new Error(
        `archive ${archive.uuid} should hold ${archive.size} bytes but the store returned ${bytes}`,
      )
    }
    return { chunks: 1, bytes }
  }
}
