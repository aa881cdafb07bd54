// The vault of each store, as the API offers it. The work lives in
// src-daemon/vault/ (manage/ for key slots, the recovery kit and locks,
// import/ for import and rescan, archives/ for the repository tasks use);
// this service builds that module's ports from the daemon's services, checks
// an import's endpoint as a store's is checked, answers vault info with the
// catalog's totals, and enqueues garbage collections. The vault password and
// the recovery key are secrets: never answered, logged or put in an error
// (the recovery kit route is the one deliberate exception).
import {
  BulwarkError,
  ErrorCode,
  VAULT_PASSWORD,
  invalid,
  type ImportResult,
  type RescanResult,
  type StoreImportInput,
  type StoreLocks,
  type VaultInfo,
  type VaultPasswordInput,
  type VaultRecoverInput,
  type VaultSlotInput,
} from '../contract'
import { CatalogChunkIndex } from '../catalog/chunk-index'
import type { TaskRow } from '../catalog/rows'
import { redactor } from '../platform/redact'
import { VaultArchives, type StoreHandle, type VaultStores } from '../vault/archives'
import { importVault, rescan } from '../vault/import/import-store'
import { CONFIG_TIMEOUT_MS, VaultAccess, type VaultLocking } from '../vault/manage/access'
import { failure, notVault } from '../vault/manage/errors'
import { addKeySlot, changePassword, removeKeySlot } from '../vault/manage/key-slots'
import { breakLock, locks } from '../vault/manage/locks'
import { recoverConfig, recoveryKit } from '../vault/manage/recovery'
import type { ServiceContext } from './context'
import { parseEndpoint } from './endpoints'
import type { PluginResourceService } from './plugin-resources'

export class VaultService {
  /** The vault's archive repository, shared with the task runner. */
  readonly archives: VaultArchives
  private readonly access: VaultAccess

  constructor(
    private readonly ctx: ServiceContext,
    private readonly stores: PluginResourceService<'store'>,
    locking: VaultLocking,
  ) {
    const { catalog, clock, registry } = ctx
    const vaultStores: VaultStores = {
      pluginOf: (uuid) => stores.row(uuid).plugin,
      endpointFor: (uuid) => stores.endpointFor(uuid),
      plugin: (name) => registry.store(name),
      canHoldVault: (plugin) => this.canHoldVault(plugin),
      password: (uuid) => stores.secret(uuid, VAULT_PASSWORD),
      savePassword: (uuid, pw) => stores.setSecret(uuid, VAULT_PASSWORD, pw),
    }
    this.archives = new VaultArchives({
      stores: vaultStores,
      index: (uuid) => new CatalogChunkIndex(catalog.db, uuid, clock.now),
      clock,
      ...locking,
    })
    this.access = new VaultAccess({
      archives: this.archives,
      stores: vaultStores,
      locking,
      clock,
      log: ctx.log,
      emit: (e) => ctx.events.emit(e),
    })
    // A changed store (its password, its endpoint) is opened afresh on next use.
    ctx.events.subscribe((e) => {
      if (e.type === 'resource' && e.kind === 'store') this.archives.forget(e.uuid)
    })
  }

  /** Whether the plugin declares it can hold a chunked vault (from its capabilities only). */
  async canHoldVault(plugin: string): Promise<boolean> {
    return (await this.ctx.registry.storeCapabilities(plugin)).vault
  }

  /** A store ready for tasks: its plugin, and the endpoint plugin calls get (never the vault password). */
  handle(uuid: string): Promise<StoreHandle> {
    return this.archives.store(uuid)
  }

  /** A store or vault failure as an error the API answers with (409 damaged vault, 502 store). */
  failure(err: unknown): unknown {
    return failure(err)
  }

  /** GET /v1/store/:uuid/vault */
  async info(uuid: string): Promise<VaultInfo> {
    const store = await this.access.vaultStore(uuid)
    const ctx = this.access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const config = await this.access.requireConfig(store, ctx)
    const { min, avg, max } = config.chunking
    return {
      vault_id: config.id,
      created_at: config.created_at,
      chunking: { min, avg, max },
      key_slots: config.key_slots.map((s) => ({
        id: s.id,
        label: s.label,
        created_at: s.created_at,
      })),
      ...this.ctx.catalog.vaultTotals(uuid),
    }
  }

  locks(uuid: string): Promise<StoreLocks> {
    return locks(this.access, uuid)
  }
  breakLock(uuid: string, id: string, force: boolean, by: string): Promise<void> {
    return breakLock(this.access, uuid, id, force, by)
  }
  changePassword(uuid: string, input: VaultPasswordInput): Promise<void> {
    return changePassword(this.access, uuid, input)
  }
  addKeySlot(uuid: string, input: VaultSlotInput): Promise<string> {
    return addKeySlot(this.access, uuid, input)
  }
  removeKeySlot(uuid: string, id: string): Promise<void> {
    return removeKeySlot(this.access, uuid, id)
  }
  recoveryKit(uuid: string): Promise<string> {
    return recoveryKit(this.access, uuid)
  }
  recoverConfig(uuid: string, input: VaultRecoverInput): Promise<void> {
    return recoverConfig(this.access, uuid, input)
  }
  rescan(uuid: string): Promise<RescanResult> {
    return rescan(this.access, this.ctx.catalog, uuid)
  }

  /** Enqueues a garbage collection of the store's vault; one at a time per store. */
  async gc(uuid: string, owner: string): Promise<TaskRow> {
    const store = await this.access.vaultStore(uuid)
    await this.access.requireConfig(store, this.access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS))
    const active = this.ctx.catalog.activeTask('gc', uuid)
    if (active) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `a garbage collection of store ${uuid} is already ${active.status}: task ${active.uuid}`,
        undefined,
        { task_uuid: active.uuid },
      )
    }
    return this.ctx.queue.enqueue({ op: 'gc', owner, priority: 95, store_uuid: uuid })
  }

  /**
   * Adds a store that already holds a vault (another daemon's, or this one's
   * before its catalog was lost): its endpoint is checked as a new store's,
   * then vault/import opens the vault with endpoint.vault_password or
   * endpoint.recovery_key and lists every archive.
   */
  async importStore(input: StoreImportInput): Promise<ImportResult> {
    const { recovery_key: recovery, ...endpoint } = parseEndpoint(input.endpoint)
    if (recovery !== undefined && (typeof recovery !== 'string' || recovery.trim() === '')) {
      throw invalid(
        'endpoint.recovery_key',
        'endpoint.recovery_key must be the recovery key (88 characters of base64) or the whole recovery kit',
      )
    }
    const known = this.ctx.registry.find('store', input.plugin)
    if (known && !(await this.canHoldVault(known.name))) throw notVault(known.name, 'plugin')
    const { plugin, values } = this.stores.check({ ...input, endpoint })
    const given = values[VAULT_PASSWORD]
    const password = typeof given === 'string' && given !== '' ? given : undefined
    if (password !== undefined) redactor.add(password)
    if (password === undefined && recovery === undefined) {
      throw invalid(
        `endpoint.${VAULT_PASSWORD}`,
        `endpoint.${VAULT_PASSWORD} is required to import a vault (or endpoint.recovery_key, the key from its recovery kit)`,
      )
    }
    const { [VAULT_PASSWORD]: _secret, ...pluginEndpoint } = values
    // Two rows for one location would defeat the queue's guard that keeps GC apart from backups.
    this.stores.assertLocationFree(plugin, pluginEndpoint, undefined)
    return importVault(this.access, this.ctx.catalog, {
      name: input.name,
      store: {
        uuid: '(import)',
        plugin: await this.ctx.registry.store(plugin.name),
        endpoint: pluginEndpoint,
        vault: true,
      },
      password,
      recovery: recovery as string | undefined,
      createRow: (kept) =>
        this.stores.create({
          name: input.name,
          summary: input.summary,
          plugin: plugin.name,
          endpoint: { ...pluginEndpoint, [VAULT_PASSWORD]: kept },
        }),
    })
  }
}
