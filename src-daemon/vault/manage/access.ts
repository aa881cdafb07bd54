// What managing a vault through the API shares: the store's handle (refused
// when its plugin holds no vault), its vault.json, its master key as the
// daemon's own password opens it, an exclusive store lock for work that must
// see the store alone, and a per-store queue for key-slot changes.
import { BulwarkError, ErrorCode, type DaemonEvent } from '../../contract'
import type { Clock } from '../../platform/clock'
import type { Logger } from '../../platform/logger'
import { readConfig, type VaultConfig } from '../config'
import { unwrapSlot, type MasterKey } from '../keys'
import { acquireLock } from '../store-lock'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { VaultArchives } from '../archives/repository'
import type { StoreHandle, VaultStores } from '../archives/types'
import { failure, isWrongPassword, notVault, storeIo } from './errors'

/** Reading or rewriting vault.json. */
export const CONFIG_TIMEOUT_MS = 2 * 60_000
/** Listing a store and opening every manifest. */
export const SCAN_TIMEOUT_MS = 30 * 60_000

/** How this daemon takes locks in stores (see ../store-lock.ts). */
export interface VaultLocking {
  /** The data directory, written into locks. */
  daemon: string
  lockLeaseMs: number
  lockWaitMs: number
}

export interface VaultAccessDeps {
  archives: VaultArchives
  stores: VaultStores
  locking: VaultLocking
  clock: Clock
  log: Logger
  emit(event: DaemonEvent): void
}

export class VaultAccess {
  private readonly changing = new Map<string, Promise<void>>()

  constructor(readonly deps: VaultAccessDeps) {}

  get log(): Logger {
    return this.deps.log
  }

  storedPassword(uuid: string): string | undefined {
    return this.deps.stores.password(uuid)
  }

  /** The store's handle, or 400 when its plugin cannot hold a vault. */
  async vaultStore(uuid: string): Promise<StoreHandle> {
    const plugin = this.deps.stores.pluginOf(uuid)
    if (!(await this.deps.stores.canHoldVault(plugin))) throw notVault(plugin, 'uuid')
    return this.deps.archives.store(uuid)
  }

  async requireConfig(store: StoreHandle, ctx: PluginContext): Promise<VaultConfig> {
    const config = await storeIo(() => readConfig(store.plugin, store.endpoint, ctx))
    if (!config) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `store ${store.uuid} has no vault yet: it is created by the first backup`,
      )
    }
    return config
  }

  /** Whether the password opens one of the config's slots. */
  async opens(config: VaultConfig, password: string): Promise<boolean> {
    try {
      await unwrapSlot(config.key_slots, password, config.id)
      return true
    } catch (err) {
      if (isWrongPassword(err)) return false
      throw failure(err)
    }
  }

  /** The master key, unwrapped once with the daemon's password and kept (the tasks' copy). */
  async master(store: StoreHandle, config: VaultConfig, ctx: PluginContext): Promise<MasterKey> {
    if (this.storedPassword(store.uuid) === undefined) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `Bulwark keeps no password for the vault in store ${store.uuid}; set one with POST /v1/store/${store.uuid}/vault/password (with "password", a password that opens it)`,
      )
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      let opened
      try {
        opened = await this.deps.archives.open(store, ctx)
      } catch (err) {
        if (isWrongPassword(err)) {
          throw new BulwarkError(
            ErrorCode.Conflict,
            `the vault password Bulwark keeps for store ${store.uuid} does not open its vault (was it changed elsewhere?); set the right one with POST /v1/store/${store.uuid}/vault/password`,
          )
        }
        throw failure(err)
      }
      if (opened.config.id === config.id) return opened.master
      this.deps.archives.forget(store.uuid) // the store now holds another vault
    }
    throw new BulwarkError(
      ErrorCode.Conflict,
      `the vault in store ${store.uuid} changed while it was being opened; try again`,
    )
  }

  context(what: string, timeoutMs: number): PluginContext {
    return {
      signal: AbortSignal.timeout(timeoutMs),
      log: (line) => this.deps.log.info(`${what}: ${line}`),
    }
  }

  /** Runs fn under an exclusive lock in the store (GC, rescan, import, recover exclude each other). */
  async exclusively<T>(
    store: StoreHandle,
    ctx: PluginContext,
    operation: string,
    fn: (ctx: PluginContext) => Promise<T>,
  ): Promise<T> {
    const { locking, clock } = this.deps
    const lock = await storeIo(() =>
      acquireLock({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx,
        exclusive: true,
        operation,
        now: clock.now,
        daemon: locking.daemon,
        leaseMs: locking.lockLeaseMs,
        // An API request waits little: the caller can try again.
        waitMs: Math.min(locking.lockWaitMs, 20_000),
      }),
    )
    try {
      return await fn({ ...ctx, signal: AbortSignal.any([ctx.signal, lock.lost]) })
    } finally {
      await lock.release().catch(() => undefined)
    }
  }

  /** Runs fn after every earlier key-slot change of the store has finished. */
  locked<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.changing.get(uuid) ?? Promise.resolve()
    const run = previous.then(fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.changing.set(uuid, tail)
    void tail.then(() => {
      if (this.changing.get(uuid) === tail) this.changing.delete(uuid)
    })
    return run
  }
}
