// How tasks write, read, verify and remove archives. Stores that can hold a
// vault (they can list and stat objects) get chunked, deduplicated,
// compressed and encrypted archives; external protocol stores keep
// whole-archive blobs. Each store's vault is opened once (its key unwrapped
// with the store's vault password) and kept while the daemon runs; only a
// backup creates a vault, and only in a store that holds no vault objects.
// Work on a vault runs in a session: a lock in the store (shared for backups,
// restores and verifies, exclusive for GC), and for writers a chunk index
// checked against the store's GC epoch, so the index cannot claim a chunk
// that another daemon's GC removed.
import { randomBytes } from 'node:crypto'
import { Transform, pipeline, type Readable } from 'node:stream'
import type { Catalog } from '../catalog/catalog'
import { CatalogChunkIndex } from '../catalog/chunk-index'
import type { ArchiveRow } from '../catalog/rows'
import type { Clock } from '../platform/clock'
import { initVault, readConfig, writeConfig, type VaultConfig } from '../vault/config'
import { unwrapKey, type MasterKey } from '../vault/keys'
import {
  CHUNKS_PREFIX,
  MANIFESTS_PREFIX,
  VaultError,
  isDamage,
  manifestKey,
  parseChunkKey,
  type Manifest,
} from '../vault/objects'
import { acquireLock } from '../vault/store-lock'
import { readEpoch } from '../vault/epoch'
import { openBlob, sealBlob } from '../vault/blob'
import { opener, readArchive, verifyArchive, type ReadOptions } from '../vault/reader'
import { ChunkCache, fileStream, readTreeManifest, readTreeRecords } from '../vault/tree-read'
import type { TreeRecord } from '../vault/tree'
import { writeArchive, type ChunkClaims, type RemoteChunk } from '../vault/writer'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'

export interface StoreHandle {
  uuid: string
  plugin: StorePlugin
  /** The plugin's endpoint (without the vault password). */
  endpoint: Endpoint
  /** Whether archives in this store go through the vault. */
  vault: boolean
}

export interface NewArchive {
  uuid: string
  takenAt: number
  expiresAt: number
  target: { uuid: string; name: string; plugin: string; location?: string }
  job: { uuid: string; name: string } | null
}

export interface WrittenArchive {
  key: string
  format: 'plain' | 'vault' | 'blob' | 'tree'
  size: number
  newBytes: number
  storedBytes: number
  chunks: number
}

export interface VaultDeps {
  catalog: Catalog
  clock: Clock
  /** The store's vault password, if one is set. */
  password(storeUuid: string): string | undefined
  /** Keeps a password generated for a store that had none. */
  savePassword(storeUuid: string, password: string): void
  /** scrypt cost for new key slots (tests lower it). */
  scryptN?: number
  /** This daemon's data directory, written into the locks it takes. */
  daemon: string
  /** How long a store lock lives without a refresh. */
  lockLeaseMs: number
  /** How long work waits for a conflicting store lock before failing. */
  lockWaitMs: number
}

export interface SessionOptions {
  /** What the lock says is going on: "backup", "gc", ... */
  operation: string
  exclusive: boolean
  /** Create the vault if the store holds none (backups only). */
  create?: boolean
  /** Make the chunk index match the store first (writers). */
  syncIndex?: boolean
}

/** An opened vault under a store lock. */
export interface VaultSession {
  config: VaultConfig
  master: MasterKey
  index: CatalogChunkIndex
  /** The caller's context, also aborted if the store lock is lost. */
  ctx: PluginContext
  /** Why the lock was lost, once it is. */
  lost: AbortSignal
}

/** How long a tree read for browsing or a restore stays in memory after its last use. */
const TREE_IDLE_MS = 2 * 60_000

/** Opening a vault (reading vault.json, unwrapping the key) may take no longer. */
const OPEN_TIMEOUT_MS = 2 * 60_000

export type OpenedVault = { config: VaultConfig; master: MasterKey }
type Opened = OpenedVault

export class VaultArchives {
  /** Each store's master key, unwrapped once per vault id (scrypt is slow on purpose). */
  private readonly masters = new Map<string, { id: string; master: Promise<MasterKey> }>()
  /** A vault being created in a store: every other opener waits for it. */
  private readonly creating = new Map<string, Promise<Opened>>()

  constructor(private readonly deps: VaultDeps) {}

  index(storeUuid: string): CatalogChunkIndex {
    return new CatalogChunkIndex(this.deps.catalog.db, storeUuid, this.deps.clock.now)
  }

  /**
   * The store's vault. vault.json is read every time (the store is the truth:
   * a vault.json deleted, or replaced by another vault's, is seen at once);
   * only the unwrapped key is kept. With create (backups), a store that holds
   * no vault objects gets a new vault; without it, or when the store holds
   * archives but no vault.json, opening fails saying so.
   */
  async open(
    store: StoreHandle,
    ctx: PluginContext,
    opts: { create?: boolean } = {},
  ): Promise<Opened> {
    const bounded = AbortSignal.any([ctx.signal, AbortSignal.timeout(OPEN_TIMEOUT_MS)])
    const tctx = { ...ctx, signal: bounded }
    try {
      const pending = this.creating.get(store.uuid)
      if (pending) await untilAborted(pending, tctx.signal).catch(() => undefined)
      const config = await readConfig(store.plugin, store.endpoint, tctx)
      if (config) return { config, master: await untilAborted(this.unwrap(store, config), bounded) }
      await this.refuseOverObjects(store, tctx)
      if (!opts.create) throw new NoVaultError(store.uuid)
      return await untilAborted(this.create(store, ctx), bounded)
    } catch (err) {
      if (bounded.aborted && !ctx.signal.aborted) {
        throw new PluginError(
          `the store did not answer within ${OPEN_TIMEOUT_MS / 1000} s while its vault was being opened`,
          'transient',
        )
      }
      throw err
    }
  }

  /** The master key for config, unwrapped with the store's password (once per vault id). */
  private unwrap(store: StoreHandle, config: VaultConfig): Promise<MasterKey> {
    const known = this.masters.get(store.uuid)
    if (known && known.id === config.id) return known.master
    const password = this.deps.password(store.uuid)
    const master = password
      ? unwrapKey(config.key_slots, password, config.id).catch((err: unknown) => {
          if (err instanceof VaultError && err.code === 'wrong_password') {
            throw new VaultError(
              'wrong_password',
              `the vault password Bulwark keeps for store ${store.uuid} does not open vault ${config.id} (was it changed elsewhere?); set the right one with POST /v1/store/${store.uuid}/vault/password, giving a password that opens the vault`,
            )
          }
          throw err
        })
      : Promise.reject(
          new VaultError(
            'wrong_password',
            `store ${store.uuid} holds vault ${config.id} but Bulwark keeps no password for it; set it with POST /v1/store/${store.uuid}/vault/password`,
          ),
        )
    const entry = { id: config.id, master }
    this.masters.set(store.uuid, entry)
    master.catch(() => {
      if (this.masters.get(store.uuid) === entry) this.masters.delete(store.uuid)
    })
    return master
  }

  /** A store without vault.json that holds vault objects is never given a new vault. */
  private async refuseOverObjects(store: StoreHandle, ctx: PluginContext): Promise<void> {
    const found = await vaultObjects(store, ctx)
    if (!found) return
    throw new VaultError(
      'missing',
      `store ${store.uuid} holds vault objects (${found}) but no vault.json: it was deleted, or the store's location is not the one it was (an unmounted disk?). Bulwark will not start a new vault over it. Check the location; if vault.json is really lost, rewrite it from the recovery kit (POST /v1/store/${store.uuid}/vault/recover)`,
    )
  }

  /**
   * Creates the store's vault, once: shared by every backup that asks
   * meanwhile, so no one task's cancel may stop it (it runs on a signal of
   * its own, bounded in time; each caller stops waiting on its own).
   */
  private create(store: StoreHandle, ctx: PluginContext): Promise<Opened> {
    let creating = this.creating.get(store.uuid)
    if (creating) return creating
    const own = { ...ctx, signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) }
    creating = (async (): Promise<Opened> => {
      const raced = await readConfig(store.plugin, store.endpoint, own)
      if (raced) return { config: raced, master: await this.unwrap(store, raced) }
      await this.refuseOverObjects(store, own)
      let password = this.deps.password(store.uuid)
      if (!password) {
        password = randomBytes(18).toString('base64url')
        this.deps.savePassword(store.uuid, password)
        own.log(
          'this store had no vault password; Bulwark generated one (export the recovery kit to keep a copy)',
        )
      }
      const created = await initVault(password, { N: this.deps.scryptN })
      await writeConfig(store.plugin, store.endpoint, created.config, own)
      own.log(`created vault ${created.config.id} in store ${store.uuid}`)
      this.masters.set(store.uuid, {
        id: created.config.id,
        master: Promise.resolve(created.master),
      })
      return created
    })().finally(() => this.creating.delete(store.uuid))
    this.creating.set(store.uuid, creating)
    return creating
  }

  /** Forgets an opened vault's key (after its password or endpoint changed). */
  forget(storeUuid: string): void {
    this.masters.delete(storeUuid)
  }

  /** Keeps a vault the caller opened itself (an import), so the first task needs no unlock. */
  remember(storeUuid: string, vault: OpenedVault): void {
    this.masters.set(storeUuid, { id: vault.config.id, master: Promise.resolve(vault.master) })
  }

  /**
   * Opens the vault and takes a store lock; `end` releases it. A lock lost
   * meanwhile aborts the session's context.
   */
  async beginSession(
    store: StoreHandle,
    ctx: PluginContext,
    opts: SessionOptions,
  ): Promise<{ session: VaultSession; end(): Promise<void> }> {
    const { config, master } = await this.open(store, ctx, { create: opts.create })
    const lock = await acquireLock({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx,
      exclusive: opts.exclusive,
      operation: opts.operation,
      daemon: this.deps.daemon,
      now: this.deps.clock.now,
      leaseMs: this.deps.lockLeaseMs,
      waitMs: this.deps.lockWaitMs,
    })
    const session: VaultSession = {
      config,
      master,
      index: this.index(store.uuid),
      ctx: { ...ctx, signal: AbortSignal.any([ctx.signal, lock.lost]) },
      lost: lock.lost,
    }
    const end = () =>
      lock.release().catch((err: unknown) => {
        ctx.log(`could not remove the store lock ${lock.id}: ${(err as Error).message}`)
      })
    try {
      if (opts.syncIndex) await this.syncIndex(store, session)
    } catch (err) {
      await end()
      throw err
    }
    return { session, end }
  }

  /** Runs fn in a session (see beginSession); a lost lock becomes fn's error. */
  async withSession<T>(
    store: StoreHandle,
    ctx: PluginContext,
    opts: SessionOptions,
    fn: (session: VaultSession) => Promise<T>,
  ): Promise<T> {
    const { session, end } = await this.beginSession(store, ctx, opts)
    try {
      return await fn(session)
    } catch (err) {
      if (session.lost.aborted && !ctx.signal.aborted) throw session.lost.reason
      throw err
    } finally {
      await end()
    }
  }

  /**
   * Makes the chunk index match the store when a GC (of any daemon) ran since
   * it last did: the index must never claim a chunk that is gone.
   */
  private async syncIndex(store: StoreHandle, s: VaultSession): Promise<void> {
    const epoch = await readEpoch(store.plugin, store.endpoint, s.ctx)
    if (s.index.epoch() === epoch) return
    const present = new Map<string, number>()
    for await (const obj of store.plugin.list(store.endpoint, CHUNKS_PREFIX, s.ctx)) {
      const id = parseChunkKey(obj.key)
      if (id) present.set(id, obj.size)
    }
    const { forgotten } = s.index.sync(present)
    s.index.setEpoch(epoch)
    if (forgotten > 0) {
      s.ctx.log(
        `the store's chunks changed since this daemon last wrote to it (a garbage collection, or another writer): ${forgotten} chunk(s) it knew are gone, and will be uploaded again if needed`,
      )
    }
  }

  /** Forgets a chunk a reader found missing or damaged, so the next backup uploads it again. */
  forgetDamaged(storeUuid: string, err: unknown, ctx: PluginContext): void {
    if (!isDamage(err) || !err.key) return
    const id = parseChunkKey(err.key)
    if (!id) return
    this.index(storeUuid).forget([id])
    ctx.log(
      `chunk ${id.slice(0, 12)} is ${err.code} in the store: the next backup that needs it uploads it again`,
    )
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
      return this.writeBlob(store, archive, data, ctx)
    }
    if (!session) {
      const opts = { operation: 'backup', exclusive: false, create: true, syncIndex: true }
      return this.withSession(store, ctx, opts, (s) => this.write(store, archive, data, ctx, s))
    }
    const stats = await writeArchive({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx: session.ctx,
      config: session.config,
      master: session.master,
      index: session.index,
      ...(typeof data === 'function' ? { remote: data } : { source: data }),
      manifest: manifestHead(archive, store.uuid),
    })
    return {
      key: stats.manifestKey,
      format: 'vault',
      size: stats.size,
      newBytes: stats.newBytes,
      storedBytes: stats.storedBytes,
      chunks: stats.chunks,
    }
  }

  /** The store's password for blobs, generated (and kept) on first use. */
  private blobPassword(store: StoreHandle, ctx: PluginContext): string {
    let password = this.deps.password(store.uuid)
    if (!password) {
      password = randomBytes(18).toString('base64url')
      this.deps.savePassword(store.uuid, password)
      ctx.log(
        'this store had no vault password; Bulwark generated one (export the recovery kit to keep a copy)',
      )
    }
    return password
  }

  /** External stores: the whole archive as one sealed blob (see vault/blob.ts). */
  private async writeBlob(
    store: StoreHandle,
    archive: NewArchive,
    data: Readable,
    ctx: PluginContext,
  ) {
    const stamp = new Date(archive.takenAt)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')
    const key = `${archive.target.uuid}/${stamp}-${archive.uuid}`
    const blob = sealBlob(data, this.blobPassword(store, ctx), {
      version: 1,
      archive: archive.uuid,
      taken_at: new Date(archive.takenAt).toISOString(),
      expires_at: new Date(archive.expiresAt).toISOString(),
      target: archive.target,
      job: archive.job,
      store: store.uuid,
      notes: '',
      tags: {},
    })
    try {
      const stored = await store.plugin.put(store.endpoint, key, blob, ctx)
      return {
        key: stored.key,
        format: 'blob' as const,
        size: stored.size,
        newBytes: stored.size,
        storedBytes: stored.size,
        chunks: 1,
      }
    } catch (err) {
      // The store contract says nothing is left on failure; make sure anyway.
      const quiet = { ...ctx, signal: new AbortController().signal }
      await store.plugin.delete(store.endpoint, key, quiet).catch(() => undefined)
      throw err
    }
  }

  /**
   * The archive's bytes. A vault archive is read under a shared store lock,
   * released when the stream closes; a chunk found missing or damaged is
   * forgotten by the index.
   */
  async read(store: StoreHandle, archive: ArchiveRow, ctx: PluginContext): Promise<Readable> {
    if (archive.format === 'blob') {
      const blob = await store.plugin.get(store.endpoint, archive.store_key, ctx)
      return openBlob(blob, this.blobPassword(store, ctx), archive.uuid)
    }
    if (archive.format === 'tree') {
      throw new VaultError(
        'unsupported',
        `archive ${archive.uuid} is a directory (tree) archive: it is read entry by entry, not as one stream`,
      )
    }
    if (archive.format !== 'vault') return store.plugin.get(store.endpoint, archive.store_key, ctx)
    const { session, end } = await this.beginSession(store, ctx, {
      operation: 'restore',
      exclusive: false,
    })
    try {
      const { stream } = await readArchive({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx: session.ctx,
        master: session.master,
        archiveUuid: archive.uuid,
      })
      stream.on('error', (err) => this.forgetDamaged(store.uuid, err, ctx))
      stream.once('close', () => void end())
      return stream
    } catch (err) {
      await end()
      this.forgetDamaged(store.uuid, err, ctx)
      throw err
    }
  }

  /**
   * Recently read trees (archives never change): browsing pages through one
   * tree many times. A 50,000-file tree is tens of MiB, so they are kept only
   * while used: dropped TREE_IDLE_MS after their last read.
   */
  private readonly trees = new Map<
    string,
    { records: Promise<TreeRecord[]>; timer?: NodeJS.Timeout }
  >()

  private keepTree(uuid: string): void {
    const entry = this.trees.get(uuid)
    if (!entry) return
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => this.trees.delete(uuid), TREE_IDLE_MS)
    entry.timer.unref()
  }

  /**
   * A tree archive's records in tree order (depth-first, names in code-unit
   * order), authenticated; read under a shared store lock.
   */
  async readTree(
    store: StoreHandle,
    archive: ArchiveRow,
    ctx: PluginContext,
  ): Promise<TreeRecord[]> {
    const known = this.trees.get(archive.uuid)
    if (known) {
      this.keepTree(archive.uuid)
      return known.records
    }
    const reading = this.withSession(
      store,
      ctx,
      { operation: 'restore', exclusive: false },
      async (s) => (await this.loadTree(store, archive, s)).records,
    )
    this.trees.set(archive.uuid, { records: reading })
    this.keepTree(archive.uuid)
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
  async loadTree(
    store: StoreHandle,
    archive: ArchiveRow,
    s: VaultSession,
  ): Promise<{ manifest: Manifest; records: TreeRecord[] }> {
    const opts = this.readOptions(store, archive, s)
    const chunks = opener({ ...opts, workers: 0 })
    try {
      const manifest = await readTreeManifest(opts)
      return { manifest, records: await readTreeRecords(opts, manifest, chunks) }
    } catch (err) {
      this.forgetDamaged(store.uuid, err, s.ctx)
      throw err
    } finally {
      await chunks.close()
    }
  }

  /** How the vault's readers reach a tree archive in a session. */
  readOptions(store: StoreHandle, archive: ArchiveRow, s: VaultSession): ReadOptions {
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
   * A file's bytes, from a record readTree returned: every chunk authenticated
   * before a byte of it is sent; a shared store lock is held until the stream closes.
   */
  async readTreeFile(
    store: StoreHandle,
    archive: ArchiveRow,
    record: TreeRecord,
    ctx: PluginContext,
  ): Promise<Readable> {
    if (record.type !== 'file') {
      throw new VaultError('unsupported', `${record.path} is a ${record.type}, not a file`)
    }
    const { session, end } = await this.beginSession(store, ctx, {
      operation: 'restore',
      exclusive: false,
    })
    try {
      const opts = this.readOptions(store, archive, session)
      const chunks = opener({ ...opts, workers: 0 })
      const stream = fileStream(record, new ChunkCache(opts, chunks), session.ctx)
      stream.on('error', (err) => this.forgetDamaged(store.uuid, err, ctx))
      stream.once('close', () => void chunks.close().finally(end))
      return stream
    } catch (err) {
      await end()
      throw err
    }
  }

  /** Removes the archive from the store: its blob, or its manifest (chunks go to GC). */
  async remove(store: StoreHandle, archive: ArchiveRow, ctx: PluginContext): Promise<void> {
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
    archive: ArchiveRow,
    ctx: PluginContext,
    onRead: (bytes: number) => void = () => undefined,
  ): Promise<{ chunks: number; bytes: number }> {
    if (isVaultFormat(archive.format)) {
      const opts = { operation: 'verify', exclusive: false }
      return this.withSession(store, ctx, opts, async (s) => {
        try {
          return await verifyArchive({
            store: countingGets(store.plugin, onRead),
            endpoint: store.endpoint,
            ctx: s.ctx,
            master: s.master,
            archiveUuid: archive.uuid,
          })
        } catch (err) {
          this.forgetDamaged(store.uuid, err, ctx)
          throw err
        }
      })
    }
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

/** Formats whose archive is a manifest and chunks in the store's vault. */
export const isVaultFormat = (format: ArchiveRow['format']): boolean =>
  format === 'vault' || format === 'tree'

/**
 * The store plugin, with every get's stream counted as it is read: onRead
 * hears the running total. Errors of the store's stream pass through as they are.
 */
function countingGets(plugin: StorePlugin, onRead: (bytes: number) => void): StorePlugin {
  let total = 0
  return new Proxy(plugin, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (prop !== 'get' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (...args: Parameters<StorePlugin['get']>) => {
        const source = await target.get(...args)
        const counted = new Transform({
          transform(chunk: Buffer, _enc, done) {
            total += chunk.length
            onRead(total)
            done(null, chunk)
          },
        })
        pipeline(source, counted, () => undefined)
        return counted
      }
    },
  })
}

/** The promise, or a rejection as soon as the signal aborts (the work itself goes on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new PluginAbortedError())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new PluginAbortedError())
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** The vault does not exist yet (and the caller did not ask to create it). */
export class NoVaultError extends VaultError {
  constructor(storeUuid: string) {
    super('missing', `store ${storeUuid} holds no vault yet: it is created by the first backup`)
  }
}

/** Which kind of vault object the store holds, if any (a few list calls, stopped at the first). */
async function vaultObjects(store: StoreHandle, ctx: PluginContext): Promise<string | null> {
  for (const prefix of [MANIFESTS_PREFIX, CHUNKS_PREFIX]) {
    for await (const obj of store.plugin.list(store.endpoint, prefix, ctx)) {
      void obj
      return prefix === MANIFESTS_PREFIX ? 'archive manifests' : 'chunks'
    }
  }
  return null
}

/** What every manifest of a new archive says of it (the writers add its chunks, size and tree). */
export function manifestHead(
  archive: NewArchive,
  storeUuid: string,
  tags: Record<string, string> = {},
): Omit<Manifest, 'chunks' | 'size' | 'vault' | 'tree'> {
  return {
    version: 1,
    archive: archive.uuid,
    taken_at: new Date(archive.takenAt).toISOString(),
    expires_at: new Date(archive.expiresAt).toISOString(),
    target: archive.target,
    job: archive.job,
    store: storeUuid,
    notes: '',
    tags,
  }
}
