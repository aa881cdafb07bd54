// The shapes the vault's archive repository works with: a store ready for
// archive I/O, an archive as the catalog knows it (only what the vault reads
// of it), a session (an opened vault under a store lock) and what the vault
// asks of the daemon (its ports). The vault knows no catalog and no services:
// the composition root hands it these ports.
import type { MasterKey } from '../keys'
import type { VaultConfig } from '../config'
import type { ChunkIndex } from '../chunk-sink'
import type { Clock } from '../../platform/clock'
import type { Endpoint, PluginContext, StorePlugin } from '../../../plugins/sdk/types'

export interface StoreHandle {
  uuid: string
  plugin: StorePlugin
  /** The plugin's endpoint (without the vault password). */
  endpoint: Endpoint
  /** Whether archives in this store go through the vault. */
  vault: boolean
}

export type ArchiveFormat = 'plain' | 'vault' | 'blob' | 'tree'

/** What the vault reads of an archive's catalog row. */
export interface ArchiveRef {
  uuid: string
  store_key: string
  size: number | null
  format?: ArchiveFormat
}

/** Formats whose archive is a manifest and chunks in the store's vault. */
export const isVaultFormat = (format: ArchiveRef['format']): boolean =>
  format === 'vault' || format === 'tree'

export interface NewArchive {
  uuid: string
  takenAt: number
  expiresAt: number
  target: { uuid: string; name: string; plugin: string; location?: string }
  job: { uuid: string; name: string } | null
}

export interface WrittenArchive {
  key: string
  format: ArchiveFormat
  size: number
  newBytes: number
  storedBytes: number
  chunks: number
}

/**
 * A store's chunk index as sessions use it: what the writer asks, plus the
 * GC's and the epoch's bookkeeping (catalog/chunk-index.ts implements it).
 */
export interface StoreChunkIndex extends ChunkIndex {
  notice(id: string, storedSize: number): void
  noticeAll(chunks: readonly { id: string; size: number }[]): void
  forget(ids: string[]): void
  seenBefore(before: number, prefix?: string): string[]
  sync(present: ReadonlyMap<string, number>): { forgotten: number; kept: number }
  epoch(): string | null
  setEpoch(epoch: string): void
  clearEpoch(): void
}

/** What the vault asks of the daemon about its stores. */
export interface VaultStores {
  /** The store's plugin name (a store that does not exist is an error). */
  pluginOf(uuid: string): string
  /** The store's plugin name and endpoint (without the vault password). */
  endpointFor(uuid: string): { plugin: string; endpoint: Endpoint }
  /** The store plugin of that name. */
  plugin(name: string): Promise<StorePlugin>
  /**
   * Whether the plugin declares it can hold a chunked vault (it can list and
   * stat objects); one that does not keeps each archive as one sealed blob.
   */
  canHoldVault(plugin: string): Promise<boolean>
  /** The store's vault password, if one is set. */
  password(storeUuid: string): string | undefined
  /** Keeps a password for the store (generated, changed or given at import). */
  savePassword(storeUuid: string, password: string): void
}

export interface VaultDeps {
  stores: VaultStores
  /** The store's chunk index (kept in the catalog). */
  index(storeUuid: string): StoreChunkIndex
  clock: Clock
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

export type OpenedVault = { config: VaultConfig; master: MasterKey }

/** An opened vault under a store lock. */
export interface VaultSession {
  config: VaultConfig
  master: MasterKey
  index: StoreChunkIndex
  /** The caller's context, also aborted if the store lock is lost. */
  ctx: PluginContext
  /** Why the lock was lost, once it is. */
  lost: AbortSignal
}
