// Opening a store's vault. vault.json is read every time (the store is the
// truth); only the unwrapped master key is kept, once per vault id, because
// scrypt is slow on purpose. Only a backup creates a vault, and only in a
// store that holds no vault objects.
import { randomBytes } from 'node:crypto'
import { initVault, readConfig, writeConfig, type VaultConfig } from '../config'
import { unwrapKey, type MasterKey } from '../keys'
import { CHUNKS_PREFIX, MANIFESTS_PREFIX, VaultError } from '../objects'
import { PluginAbortedError, PluginError } from '../../../plugins/sdk/errors'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { OpenedVault, StoreHandle, VaultDeps } from './types'

/** Opening a vault (reading vault.json, unwrapping the key) may take no longer. */
const OPEN_TIMEOUT_MS = 2 * 60_000

/** The vault does not exist yet (and the caller did not ask to create it). */
export class NoVaultError extends VaultError {
  constructor(storeUuid: string) {
    super('missing', `store ${storeUuid} holds no vault yet: it is created by the first backup`)
  }
}

/**
 * The store's vault password, generated (and kept) when it has none: the one
 * place a password is made up, for a new vault and for the first blob alike.
 */
export function ensurePassword(
  deps: Pick<VaultDeps, 'stores'>,
  storeUuid: string,
  ctx: PluginContext,
): string {
  let password = deps.stores.password(storeUuid)
  if (!password) {
    password = randomBytes(18).toString('base64url')
    deps.stores.savePassword(storeUuid, password)
    ctx.log(
      'this store had no vault password; Bulwark generated one (export the recovery kit to keep a copy)',
    )
  }
  return password
}

export class VaultOpener {
  /** Each store's master key, unwrapped once per vault id. */
  private readonly masters = new Map<string, { id: string; master: Promise<MasterKey> }>()
  /** A vault being created in a store: every other opener waits for it. */
  private readonly creating = new Map<string, Promise<OpenedVault>>()

  constructor(private readonly deps: VaultDeps) {}

  /**
   * The store's vault. A vault.json deleted, or replaced by another vault's,
   * is seen at once. With create (backups), a store that holds no vault
   * objects gets a new vault; without it, or when the store holds archives
   * but no vault.json, opening fails saying so.
   */
  async open(
    store: StoreHandle,
    ctx: PluginContext,
    opts: { create?: boolean } = {},
  ): Promise<OpenedVault> {
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

  /** Forgets an opened vault's key (after its password or endpoint changed). */
  forget(storeUuid: string): void {
    this.masters.delete(storeUuid)
  }

  /** Keeps a vault the caller opened itself (an import), so the first task needs no unlock. */
  remember(storeUuid: string, vault: OpenedVault): void {
    this.masters.set(storeUuid, { id: vault.config.id, master: Promise.resolve(vault.master) })
  }

  /** The master key for config, unwrapped with the store's password (once per vault id). */
  private unwrap(store: StoreHandle, config: VaultConfig): Promise<MasterKey> {
    const known = this.masters.get(store.uuid)
    if (known && known.id === config.id) return known.master
    const password = this.deps.stores.password(store.uuid)
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
  private create(store: StoreHandle, ctx: PluginContext): Promise<OpenedVault> {
    let creating = this.creating.get(store.uuid)
    if (creating) return creating
    const own = { ...ctx, signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) }
    creating = (async (): Promise<OpenedVault> => {
      const raced = await readConfig(store.plugin, store.endpoint, own)
      if (raced) return { config: raced, master: await this.unwrap(store, raced) }
      await this.refuseOverObjects(store, own)
      const password = ensurePassword(this.deps, store.uuid, own)
      const created = await initVault(password, { N: this.deps.scryptN })
      await writeConfig(store.plugin, store.endpoint, created.config, own)
      own.log(`created vault ${created.config.id} in store ${store.uuid}`)
      this.remember(store.uuid, created)
      return created
    })().finally(() => this.creating.delete(store.uuid))
    this.creating.set(store.uuid, creating)
    return creating
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
