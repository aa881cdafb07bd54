// How tasks write, read, verify and remove archives. Stores that can hold a
// vault (the built-in ones: they can list and stat objects) get chunked,
// deduplicated, compressed and encrypted archives; external protocol stores
// keep whole-archive blobs. Each store's vault is opened once (its key
// unwrapped with the store's vault password) and kept while the daemon runs.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { Catalog } from '../catalog/catalog'
import { CatalogChunkIndex } from '../catalog/chunk-index'
import type { ArchiveRow } from '../catalog/rows'
import type { Clock } from '../platform/clock'
import { initVault, readConfig, writeConfig, type VaultConfig } from '../vault/config'
import { unwrapKey, type MasterKey } from '../vault/keys'
import { manifestKey } from '../vault/objects'
import { openBlob, sealBlob } from '../vault/blob'
import { readArchive, verifyArchive } from '../vault/reader'
import { writeArchive } from '../vault/writer'
import { PluginAbortedError } from '../../plugins/sdk/errors'
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
  target: { uuid: string; name: string; plugin: string }
  job: { uuid: string; name: string } | null
}

export interface WrittenArchive {
  key: string
  format: 'plain' | 'vault' | 'blob'
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
}

export type OpenedVault = { config: VaultConfig; master: MasterKey }
type Opened = OpenedVault

export class VaultArchives {
  private readonly opened = new Map<string, Promise<Opened>>()

  constructor(private readonly deps: VaultDeps) {}

  index(storeUuid: string): CatalogChunkIndex {
    return new CatalogChunkIndex(this.deps.catalog.db, storeUuid, this.deps.clock.now)
  }

  /** The store's vault, created on first use. */
  open(store: StoreHandle, ctx: PluginContext): Promise<Opened> {
    let opening = this.opened.get(store.uuid)
    if (!opening) {
      // Shared by every task that asks meanwhile, so no one task's cancel may
      // stop it: it runs on a signal of its own (a vault is created once, in a
      // second or so), and each caller stops waiting on its own signal.
      opening = this.openOrCreate(store, { ...ctx, signal: new AbortController().signal })
      this.opened.set(store.uuid, opening)
      opening.catch(() => this.opened.delete(store.uuid))
    }
    return untilAborted(opening, ctx.signal)
  }

  /** Forgets an opened vault (after its password or endpoint changed). */
  forget(storeUuid: string): void {
    this.opened.delete(storeUuid)
  }

  /** Keeps a vault the caller opened itself (an import), so the first task needs no unlock. */
  remember(storeUuid: string, vault: OpenedVault): void {
    this.opened.set(storeUuid, Promise.resolve(vault))
  }

  private async openOrCreate(store: StoreHandle, ctx: PluginContext): Promise<Opened> {
    const existing = await readConfig(store.plugin, store.endpoint, ctx)
    let password = this.deps.password(store.uuid)
    if (existing) {
      if (!password) {
        throw new Error(
          `store ${store.uuid} holds a vault but Bulwark has no password for it; set the store's vault_password`,
        )
      }
      return {
        config: existing,
        master: await unwrapKey(existing.key_slots, password, existing.id),
      }
    }
    if (!password) {
      password = randomBytes(18).toString('base64url')
      this.deps.savePassword(store.uuid, password)
      ctx.log(
        'this store had no vault password; Bulwark generated one (export the recovery kit to keep a copy)',
      )
    }
    const created = await initVault(password, { N: this.deps.scryptN })
    await writeConfig(store.plugin, store.endpoint, created.config, ctx)
    ctx.log(`created vault ${created.config.id} in store ${store.uuid}`)
    return created
  }

  async write(
    store: StoreHandle,
    archive: NewArchive,
    data: Readable,
    ctx: PluginContext,
  ): Promise<WrittenArchive> {
    if (!store.vault) return this.writeBlob(store, archive, data, ctx)
    const { config, master } = await this.open(store, ctx)
    const stats = await writeArchive({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx,
      config,
      master,
      index: this.index(store.uuid),
      source: data,
      manifest: {
        version: 1,
        archive: archive.uuid,
        taken_at: new Date(archive.takenAt).toISOString(),
        expires_at: new Date(archive.expiresAt).toISOString(),
        target: archive.target,
        job: archive.job,
        store: store.uuid,
        notes: '',
        tags: {},
      },
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

  async read(store: StoreHandle, archive: ArchiveRow, ctx: PluginContext): Promise<Readable> {
    if (archive.format === 'blob') {
      const blob = await store.plugin.get(store.endpoint, archive.store_key, ctx)
      return openBlob(blob, this.blobPassword(store, ctx), archive.uuid)
    }
    if (archive.format !== 'vault') return store.plugin.get(store.endpoint, archive.store_key, ctx)
    const { master } = await this.open(store, ctx)
    const { stream } = await readArchive({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx,
      master,
      archiveUuid: archive.uuid,
    })
    return stream
  }

  /** Removes the archive from the store: its blob, or its manifest (chunks go to GC). */
  async remove(store: StoreHandle, archive: ArchiveRow, ctx: PluginContext): Promise<void> {
    const key = archive.format === 'vault' ? manifestKey(archive.uuid) : archive.store_key
    await store.plugin.delete(store.endpoint, key, ctx)
  }

  /** Reads every byte of the archive back, authenticating it. */
  async verify(
    store: StoreHandle,
    archive: ArchiveRow,
    ctx: PluginContext,
  ): Promise<{ chunks: number; bytes: number }> {
    if (archive.format === 'vault') {
      const { master } = await this.open(store, ctx)
      return verifyArchive({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx,
        master,
        archiveUuid: archive.uuid,
      })
    }
    let bytes = 0
    for await (const chunk of await this.read(store, archive, ctx))
      bytes += (chunk as Buffer).length
    if (archive.size !== null && bytes !== archive.size) {
      throw new Error(
        `archive ${archive.uuid} should hold ${archive.size} bytes but the store returned ${bytes}`,
      )
    }
    return { chunks: 1, bytes }
  }
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
