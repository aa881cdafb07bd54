// The vault of each store, as people manage it: what it holds, its key slots
// (change the password, add or remove a slot, export the recovery kit),
// garbage collection, and importing a store that already holds a vault, so a
// catalog can be rebuilt from the store alone. This is also the one place
// that turns a store row into the handle tasks use (plugin, endpoint without
// the vault password, whether it holds a vault), for the runner and the API
// alike. The vault password and the recovery key are secrets: they are never
// answered, logged or put in an error; the recovery kit route is the one
// deliberate exception.
import { randomBytes } from 'node:crypto'
import {
  BulwarkError,
  ErrorCode,
  MAX_VAULT_PASSWORD,
  MIN_VAULT_PASSWORD,
  VAULT_PASSWORD,
  invalid,
  type ImportResult,
  type RescanResult,
  type StoreImportInput,
  type VaultInfo,
  type VaultPasswordInput,
  type VaultSlotInput,
  type StoreLock,
  type StoreLocks,
  type VaultRecoverInput,
} from '../contract'
import type { TaskRow } from '../catalog/rows'
import { mapLimit } from '../platform/concurrency'
import { redactor } from '../platform/redact'
import { VaultArchives, isVaultFormat, type StoreHandle } from '../tasks/vault-archives'
import {
  addSlot,
  readConfig,
  rebuildConfig,
  removeSlot,
  writeConfig,
  type VaultConfig,
} from '../vault/config'
import {
  StoreLockedError,
  acquireLock,
  breakLock,
  describeLock,
  listLocks,
  type LockView,
} from '../vault/store-lock'
import { parseRecoveryKey, recoveryKit, unwrapSlot, type MasterKey } from '../vault/keys'
import {
  CHUNKS_PREFIX,
  MANIFESTS_PREFIX,
  VaultError,
  manifestKey,
  parseChunkKey,
  parseManifestKey,
  type Manifest,
} from '../vault/objects'
import { readManifest } from '../vault/reader'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { PluginContext } from '../../plugins/sdk/types'
import type { ServiceContext } from './context'
import { parseEndpoint } from './endpoints'
import type { PluginResourceService } from './plugin-resources'

/** How this daemon takes locks in stores (see vault/store-lock.ts). */
export interface VaultLocking {
  /** The data directory, written into locks. */
  daemon: string
  lockLeaseMs: number
  lockWaitMs: number
}
/** Reading or rewriting vault.json. */
const CONFIG_TIMEOUT_MS = 2 * 60_000
/** Listing a store and opening every manifest. */
const SCAN_TIMEOUT_MS = 30 * 60_000
const SCAN_CONCURRENCY = 4

/** What an import keeps of one manifest. */
interface ScannedArchive {
  uuid: string
  job: { uuid: string; name: string } | null
  target: Manifest['target']
  takenAt: number
  expiresAt: number
  size: number
  format: 'vault' | 'tree'
  notes: string
  chunkCount: number
  storedBytes: number
  /** Chunks the manifest lists that the store does not hold. */
  missing: number
}

interface Scan {
  archives: ScannedArchive[]
  /** Manifests that exist but could not be opened. */
  damaged: { uuid: string; message: string }[]
  /** Every chunk in the store, with its stored size. */
  chunks: Map<string, number>
}

const slotLabelDate = () => new Date().toISOString().slice(0, 10)

function checkPassword(value: string, field: string): void {
  if (value.length < MIN_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at least ${MIN_VAULT_PASSWORD} characters long`)
  }
  if (value.length > MAX_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at most ${MAX_VAULT_PASSWORD} characters long`)
  }
}

const wrongPassword = (field: string) => invalid(field, 'the vault password is wrong')

const isWrongPassword = (err: unknown) => err instanceof VaultError && err.code === 'wrong_password'

export class VaultService {
  /** Opened vaults and archive I/O, shared with the task runner. */
  readonly archives: VaultArchives
  private readonly changing = new Map<string, Promise<void>>()

  constructor(
    private readonly ctx: ServiceContext,
    private readonly stores: PluginResourceService<'store'>,
    private readonly locking: VaultLocking,
  ) {
    this.archives = new VaultArchives({
      catalog: ctx.catalog,
      clock: ctx.clock,
      password: (uuid) => this.storedPassword(uuid),
      savePassword: (uuid, pw) => stores.setSecret(uuid, VAULT_PASSWORD, pw),
      ...locking,
    })
    // A changed store (its password, its endpoint) is opened afresh on next use.
    ctx.events.subscribe((e) => {
      if (e.type === 'resource' && e.kind === 'store') this.archives.forget(e.uuid)
    })
  }

  /**
   * Whether the plugin declares it can hold a chunked vault (it can list and
   * stat objects); one that does not keeps each archive as one encrypted blob.
   * Decided from the declared capabilities, never from where a plugin came from.
   */
  async canHoldVault(plugin: string): Promise<boolean> {
    return (await this.ctx.registry.storeCapabilities(plugin)).vault
  }

  /** A store ready for tasks: its plugin, and the endpoint plugin calls get (never the vault password). */
  async handle(uuid: string): Promise<StoreHandle> {
    const { plugin, endpoint } = this.stores.endpointFor(uuid)
    return {
      uuid,
      plugin: await this.ctx.registry.store(plugin),
      endpoint,
      vault: await this.canHoldVault(plugin),
    }
  }

  /** GET /v1/store/:uuid/locks */
  async locks(uuid: string): Promise<StoreLocks> {
    const store = await this.vaultStore(uuid)
    const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const locks = await this.store(() =>
      listLocks(store.plugin, store.endpoint, ctx, this.ctx.clock.now()),
    )
    return { locks: locks.map(lockView) }
  }

  /** DELETE /v1/store/:uuid/lock/:id: a stale lock, or any with force. */
  async breakLock(uuid: string, id: string, force: boolean, by: string): Promise<void> {
    const store = await this.vaultStore(uuid)
    const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const broken = await this.store(() =>
      breakLock(store.plugin, store.endpoint, ctx, id, { force, now: this.ctx.clock.now() }),
    )
    if (!broken) {
      throw new BulwarkError(ErrorCode.NotFound, `store ${uuid} has no lock ${id}`, 'id')
    }
    this.ctx.log.warn(`store ${uuid}: ${by} broke ${describeLock(broken)}`)
  }

  /**
   * Rewrites a lost vault.json from the recovery kit: same vault id and master
   * key (authenticated against an archive of the store, or the kit's key
   * check), one key slot for Bulwark's password (or the one given). Refused
   * while the store still has a vault.json.
   */
  async recoverConfig(uuid: string, input: VaultRecoverInput): Promise<void> {
    const store = await this.vaultStore(uuid)
    const ctx = this.context(`store ${uuid}`, SCAN_TIMEOUT_MS)
    let parsed: ReturnType<typeof parseRecoveryKey>
    try {
      parsed = parseRecoveryKey(input.recovery_key)
    } catch (err) {
      throw invalid('recovery_key', (err as Error).message)
    }
    redactor.add(parsed.master.raw.toString('base64'))
    const password = input.password ?? this.storedPassword(uuid)
    if (input.password !== undefined) checkPassword(input.password, 'password')
    if (password === undefined) {
      throw invalid('password', 'Bulwark keeps no password for this vault; send one as "password"')
    }
    await this.locked(uuid, () =>
      this.exclusively(store, ctx, 'recover', async (lctx) => {
        if (await this.store(() => readConfig(store.plugin, store.endpoint, lctx))) {
          throw new BulwarkError(
            ErrorCode.Conflict,
            `store ${uuid} has a vault.json: there is nothing to recover (to change its password use POST /v1/store/${uuid}/vault/password)`,
          )
        }
        const id = await this.vaultIdFor(store, parsed, lctx)
        const config = await rebuildConfig(id, parsed.master, password)
        await this.store(() => writeConfig(store.plugin, store.endpoint, config, lctx))
        if (input.password !== undefined) this.stores.setSecret(uuid, VAULT_PASSWORD, password)
        this.archives.forget(uuid)
        this.ctx.log.warn(
          `store ${uuid}: vault.json of vault ${id} was rewritten from its recovery kit`,
        )
      }),
    )
  }

  /** The vault id the kit's key opens: read from an archive's manifest, else the kit's own. */
  private async vaultIdFor(
    store: StoreHandle,
    kit: ReturnType<typeof parseRecoveryKey>,
    ctx: PluginContext,
  ): Promise<string> {
    for await (const obj of store.plugin.list(store.endpoint, MANIFESTS_PREFIX, ctx)) {
      const archiveUuid = parseManifestKey(obj.key)
      if (!archiveUuid) continue
      try {
        const m = await readManifest({
          store: store.plugin,
          endpoint: store.endpoint,
          ctx,
          master: kit.master,
          archiveUuid,
        })
        if (kit.vaultId !== undefined && kit.vaultId !== m.vault) {
          throw invalid(
            'recovery_key',
            `this recovery kit is for vault ${kit.vaultId}, but the store's archives belong to vault ${m.vault}`,
          )
        }
        return m.vault
      } catch (err) {
        if (err instanceof VaultError && err.code === 'corrupt') {
          throw invalid(
            'recovery_key',
            'the recovery key does not open the archives in this store: it is the key of another vault',
          )
        }
        if (err instanceof VaultError && err.code === 'missing') continue
        throw this.failure(err)
      }
    }
    if (kit.vaultId === undefined) {
      throw invalid(
        'recovery_key',
        'the store holds no archive to check a bare recovery key against; give the whole recovery kit (with its vault id and key check)',
      )
    }
    return kit.vaultId
  }

  /** Runs fn under an exclusive lock in the store (GC, rescan, import, recover exclude each other). */
  private async exclusively<T>(
    store: StoreHandle,
    ctx: PluginContext,
    operation: string,
    fn: (ctx: PluginContext) => Promise<T>,
  ): Promise<T> {
    const lock = await this.store(() =>
      acquireLock({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx,
        exclusive: true,
        operation,
        now: this.ctx.clock.now,
        daemon: this.locking.daemon,
        leaseMs: this.locking.lockLeaseMs,
        // An API request waits little: the caller can try again.
        waitMs: Math.min(this.locking.lockWaitMs, 20_000),
      }),
    )
    try {
      return await fn({ ...ctx, signal: AbortSignal.any([ctx.signal, lock.lost]) })
    } finally {
      await lock.release().catch(() => undefined)
    }
  }

  /** GET /v1/store/:uuid/vault */
  async info(uuid: string): Promise<VaultInfo> {
    const store = await this.vaultStore(uuid)
    const config = await this.requireConfig(store, this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS))
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

  /**
   * A new password for the vault, without rewriting any data: a slot for the
   * new password is added, the daemon keeps it, then the slot that the old
   * one opened is removed (in that order, so a failure half-way never locks
   * anyone out).
   */
  async changePassword(uuid: string, input: VaultPasswordInput): Promise<void> {
    checkPassword(input.new_password, 'new_password')
    const store = await this.vaultStore(uuid)
    await this.locked(uuid, async () => {
      const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
      const config = await this.requireConfig(store, ctx)
      const old = input.password ?? this.storedPassword(uuid)
      if (old === undefined) {
        throw invalid(
          'password',
          'Bulwark keeps no password for this vault; send the current one as "password"',
        )
      }
      let opened: { master: MasterKey; slot: { id: string; label: string } }
      try {
        opened = await unwrapSlot(config.key_slots, old, config.id)
      } catch (err) {
        if (isWrongPassword(err)) throw wrongPassword('password')
        throw this.failure(err)
      }
      const added = await addSlot(config, opened.master, input.new_password, opened.slot.label)
      const slot = added.key_slots.at(-1)!
      await this.store(() => writeConfig(store.plugin, store.endpoint, added, ctx))
      this.stores.setSecret(uuid, VAULT_PASSWORD, input.new_password)
      this.archives.forget(uuid)
      await this.store(() =>
        writeConfig(store.plugin, store.endpoint, removeSlot(added, opened.slot.id), ctx),
      )
      this.ctx.log.info(
        `store ${uuid}: vault password changed (key slot ${opened.slot.id} replaced by ${slot.id}); no data was rewritten`,
      )
      this.ctx.events.emit({ type: 'resource', kind: 'store', uuid, action: 'updated' })
    })
  }

  /** Adds a key slot for another password; returns its id. */
  async addKeySlot(uuid: string, input: VaultSlotInput): Promise<string> {
    checkPassword(input.password, 'password')
    const store = await this.vaultStore(uuid)
    return this.locked(uuid, async () => {
      const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
      const config = await this.requireConfig(store, ctx)
      const master = await this.master(store, config, ctx)
      const label = input.label ?? `added ${slotLabelDate()}`
      const next = await addSlot(config, master, input.password, label)
      await this.store(() => writeConfig(store.plugin, store.endpoint, next, ctx))
      const slot = next.key_slots.at(-1)!
      this.ctx.log.info(`store ${uuid}: key slot ${slot.id} ("${label}") added to its vault`)
      return slot.id
    })
  }

  /** Removes a key slot; never the last one, nor the one the daemon's own password needs. */
  async removeKeySlot(uuid: string, id: string): Promise<void> {
    const store = await this.vaultStore(uuid)
    await this.locked(uuid, async () => {
      const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
      const config = await this.requireConfig(store, ctx)
      const slot = config.key_slots.find((s) => s.id === id)
      if (!slot) {
        throw new BulwarkError(
          ErrorCode.NotFound,
          `the vault of store ${uuid} has no key slot ${id}`,
          'id',
        )
      }
      if (config.key_slots.length === 1) {
        throw new BulwarkError(
          ErrorCode.Conflict,
          `key slot ${id} is the last one of the vault in store ${uuid}: without it no password could open the vault; add another slot first`,
        )
      }
      const next = removeSlot(config, id)
      const own = this.storedPassword(uuid)
      if (
        own !== undefined &&
        !(await this.opens(next, own)) &&
        (await this.opens({ ...config, key_slots: [slot] }, own))
      ) {
        throw new BulwarkError(
          ErrorCode.Conflict,
          `key slot ${id} is the one Bulwark's own vault password for store ${uuid} opens; change the vault password first (POST /v1/store/${uuid}/vault/password), then remove the slot`,
        )
      }
      await this.store(() => writeConfig(store.plugin, store.endpoint, next, ctx))
      this.ctx.log.info(`store ${uuid}: key slot ${id} ("${slot.label}") removed from its vault`)
    })
  }

  /** The recovery kit (the master key, for a person to keep). Logged as exported, never logged itself. */
  async recoveryKit(uuid: string): Promise<string> {
    const row = this.stores.row(uuid)
    if (!(await this.canHoldVault(row.plugin))) return this.blobRecoveryKit(uuid, row.plugin)
    const store = await this.vaultStore(uuid)
    const ctx = this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const config = await this.requireConfig(store, ctx)
    const master = await this.master(store, config, ctx)
    redactor.add(master.raw.toString('base64'))
    this.ctx.log.warn(
      `the recovery kit of vault ${config.id} (store ${uuid}) was exported: whoever holds it can read every archive in that store`,
    )
    return recoveryKit(config.id, master)
  }

  /**
   * External stores keep self-contained sealed blobs whose only key is the
   * store's vault password, so that password is their recovery kit.
   */
  private blobRecoveryKit(uuid: string, plugin: string): string {
    const password = this.storedPassword(uuid)
    if (!password) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `store ${uuid} has no vault password yet: it is generated by the first backup`,
      )
    }
    this.ctx.log.warn(
      `the recovery kit of store ${uuid} was exported: whoever holds it can read every archive in that store`,
    )
    return [
      'Bulwark recovery kit (external store)',
      `Store: ${uuid} (plugin ${plugin})`,
      `Vault password: ${password}`,
      '',
      'Every archive in this store is one sealed blob (docs/vault-format.md, "Vault blobs"),',
      'readable with this password alone. Keep this kit somewhere safe and offline:',
      'whoever holds it can read every archive; without it (and the password) nobody can.',
      '',
    ].join('\n')
  }

  /** Enqueues a garbage collection of the store's vault; one at a time per store. */
  async gc(uuid: string, owner: string): Promise<TaskRow> {
    const store = await this.vaultStore(uuid)
    await this.requireConfig(store, this.context(`store ${uuid}`, CONFIG_TIMEOUT_MS))
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
   * before its catalog was lost): opens the vault with endpoint.vault_password
   * or endpoint.recovery_key, then lists every archive its manifests describe.
   * Nothing is written to the catalog unless the vault opens.
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
    if (known && !(await this.canHoldVault(known.name))) throw this.notVault(known.name, 'plugin')
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
    const store: StoreHandle = {
      uuid: '(import)',
      plugin: await this.ctx.registry.store(plugin.name),
      endpoint: pluginEndpoint,
      vault: true,
    }
    const ctx = this.context(`import "${input.name}"`, SCAN_TIMEOUT_MS)
    const config = await this.store(() => readConfig(store.plugin, store.endpoint, ctx))
    if (!config) {
      throw invalid(
        'endpoint',
        'no vault at that location: the store holds no vault.json; to start a new vault there, create the store with POST /v1/stores',
      )
    }

    let master: MasterKey
    /** A whole kit for this vault whose key check passed. */
    let kitChecked = false
    if (typeof recovery === 'string') {
      let parsed: ReturnType<typeof parseRecoveryKey>
      try {
        parsed = parseRecoveryKey(recovery)
      } catch (err) {
        throw invalid('endpoint.recovery_key', (err as Error).message)
      }
      redactor.add(parsed.master.raw.toString('base64'))
      if (parsed.vaultId !== undefined && parsed.vaultId !== config.id) {
        throw invalid(
          'endpoint.recovery_key',
          `this recovery kit is for vault ${parsed.vaultId}, but the store holds vault ${config.id}`,
        )
      }
      master = parsed.master
      kitChecked = parsed.vaultId === config.id && /^\s*Key check:/im.test(recovery)
    } else {
      try {
        master = (await unwrapSlot(config.key_slots, password!, config.id)).master
      } catch (err) {
        if (isWrongPassword(err)) throw wrongPassword(`endpoint.${VAULT_PASSWORD}`)
        throw this.failure(err)
      }
    }

    const scan = await this.scan(store, master, ctx)
    // Nothing authenticates a recovery key but the objects it opens (or a kit's key check):
    // a slot must never be added for a key that is not this vault's.
    if (typeof recovery === 'string' && scan.archives.length === 0) {
      if (scan.damaged.length > 0) {
        throw invalid(
          'endpoint.recovery_key',
          'the recovery key does not open this vault: none of its archives authenticate with it',
        )
      }
      if (!kitChecked) {
        throw invalid(
          'endpoint.recovery_key',
          'the vault holds no archive to check a bare recovery key against; give the whole recovery kit (with its vault id and key check)',
        )
      }
    }

    // Recovered with the key: the daemon needs a password that opens the vault for its own use.
    let kept = password
    let opened = config
    if (
      typeof recovery === 'string' &&
      (password === undefined || !(await this.opens(config, password)))
    ) {
      if (password !== undefined) checkPassword(password, `endpoint.${VAULT_PASSWORD}`)
      kept = password ?? randomBytes(18).toString('base64url')
      opened = await addSlot(config, master, kept, `recovered ${slotLabelDate()}`)
      await this.store(() => writeConfig(store.plugin, store.endpoint, opened, ctx))
    }

    const { uuid, added } = this.ctx.catalog.transaction(() => {
      const uuid = this.stores.create({
        name: input.name,
        summary: input.summary,
        plugin: plugin.name,
        endpoint: { ...pluginEndpoint, [VAULT_PASSWORD]: kept },
      })
      return { uuid, added: this.record(uuid, scan).added }
    })
    this.archives.remember(uuid, { config: opened, master })
    this.announce(added)
    this.report(uuid, scan, added.length)
    if (typeof recovery === 'string' && password === undefined) {
      this.ctx.log.warn(
        `store ${uuid} was imported with its recovery key; Bulwark added a key slot for a password it generated (set your own with POST /v1/store/${uuid}/vault/password)`,
      )
    }
    return { ok: 'created', uuid, archives: added.length, skipped: scan.damaged.length }
  }

  /** Rescans a store already in the catalog: adds the archives its manifests describe and the catalog lacks. */
  async rescan(uuid: string): Promise<RescanResult> {
    const store = await this.vaultStore(uuid)
    const ctx = this.context(`store ${uuid}`, SCAN_TIMEOUT_MS)
    const config = await this.requireConfig(store, ctx)
    const master = await this.master(store, config, ctx)
    const scan = await this.scan(store, master, ctx)
    const { added, gone } = this.ctx.catalog.transaction(() => this.record(uuid, scan))
    this.announce(added)
    for (const archive of gone) {
      this.ctx.log.warn(
        `archive ${archive}: its manifest is no longer in store ${uuid} (deleted by another daemon, or by hand); marked purged`,
      )
      this.ctx.events.emit({ type: 'resource', kind: 'archive', uuid: archive, action: 'updated' })
    }
    this.report(uuid, scan, added.length)
    return {
      ok: 'updated',
      archives: added.length,
      skipped: scan.damaged.length,
      gone: gone.length,
    }
  }

  /** Every chunk (with its stored size) and every readable manifest of the store. */
  private async scan(store: StoreHandle, master: MasterKey, outer: PluginContext): Promise<Scan> {
    return this.exclusively(store, outer, 'rescan', (ctx) =>
      this.store(async () => {
        const chunks = new Map<string, number>()
        for await (const obj of store.plugin.list(store.endpoint, CHUNKS_PREFIX, ctx)) {
          const id = parseChunkKey(obj.key)
          if (id) chunks.set(id, obj.size)
        }
        const uuids: string[] = []
        for await (const obj of store.plugin.list(store.endpoint, MANIFESTS_PREFIX, ctx)) {
          const id = parseManifestKey(obj.key)
          if (id) uuids.push(id)
        }
        const archives: ScannedArchive[] = []
        const damaged: Scan['damaged'] = []
        await mapLimit(uuids, SCAN_CONCURRENCY, async (archiveUuid) => {
          try {
            const m = await readManifest({
              store: store.plugin,
              endpoint: store.endpoint,
              ctx,
              master,
              archiveUuid,
            })
            archives.push(summarize(m, chunks))
          } catch (err) {
            if (!(err instanceof VaultError)) throw err
            // Deleted since it was listed (a purge): not damage.
            if (err.code !== 'missing') damaged.push({ uuid: archiveUuid, message: err.message })
          }
        })
        archives.sort((a, b) => a.takenAt - b.takenAt || a.uuid.localeCompare(b.uuid))
        return { archives, damaged, chunks }
      }),
    )
  }

  /**
   * Inserts a row for each scanned archive the catalog lacks, and makes the
   * chunk index match the store. Run inside a transaction. An archive whose
   * job has a backup into this store running is left out: that backup may
   * be the one writing it, and it inserts its own row.
   */
  private record(storeUuid: string, scan: Scan): { added: string[]; gone: string[] } {
    const { catalog } = this.ctx
    const busy = catalog.runningBackupJobs(storeUuid)
    const now = this.ctx.clock.now()
    const added: string[] = []
    for (const a of scan.archives) {
      if (catalog.archives.get(a.uuid)) continue
      if (a.job && busy.has(a.job.uuid)) continue
      catalog.archives.insert({
        uuid: a.uuid,
        job_uuid: a.job && catalog.jobs.get(a.job.uuid) ? a.job.uuid : null,
        target_uuid: a.target.uuid,
        store_uuid: storeUuid,
        store_key: manifestKey(a.uuid),
        taken_at: a.takenAt,
        expires_at: a.expiresAt,
        notes: a.notes,
        status: a.missing > 0 ? 'invalid' : a.expiresAt <= now ? 'expired' : 'valid',
        target_plugin: a.target.plugin,
        size: a.size,
        purged_at: null,
        format: a.format,
        new_bytes: null,
        stored_bytes: a.storedBytes,
        chunk_count: a.chunkCount,
        origin_target_name: a.target.name,
        origin_target_location: a.target.location ?? null,
      })
      added.push(a.uuid)
    }
    // The other way: an archive the catalog lists whose manifest the store no
    // longer holds was deleted (by another daemon sharing the store, or by
    // hand). It is marked purged rather than left listed as restorable.
    const present = new Set([
      ...scan.archives.map((a) => a.uuid),
      ...scan.damaged.map((d) => d.uuid),
    ])
    const gone: string[] = []
    for (const row of catalog.listArchives({ store_uuid: storeUuid })) {
      if (!isVaultFormat(row.format) || row.status === 'purged' || present.has(row.uuid)) continue
      if (row.job_uuid && busy.has(row.job_uuid)) continue
      catalog.archives.update(row.uuid, { status: 'purged', purged_at: now })
      gone.push(row.uuid)
    }
    const index = this.archives.index(storeUuid)
    index.sync(scan.chunks)
    // Matched against a fresh listing; the next writer still checks the store's epoch.
    index.clearEpoch()
    return { added, gone }
  }

  private announce(archives: string[]): void {
    for (const uuid of archives) {
      this.ctx.events.emit({ type: 'resource', kind: 'archive', uuid, action: 'created' })
    }
  }

  private report(storeUuid: string, scan: Scan, added: number): void {
    this.ctx.log.info(
      `store ${storeUuid}: found ${scan.archives.length} archive(s) and ${scan.chunks.size} chunk(s) in its vault; ${added} archive(s) added to the catalog`,
    )
    for (const a of scan.archives) {
      if (a.missing > 0) {
        this.ctx.log.warn(
          `archive ${a.uuid}: ${a.missing} of its chunks are missing from store ${storeUuid}; it cannot be restored`,
        )
      }
    }
    for (const d of scan.damaged) {
      this.ctx.log.warn(`store ${storeUuid}: skipped a damaged manifest: ${d.message}`)
    }
  }

  /** Whether the password opens one of the config's slots. */
  private async opens(config: VaultConfig, password: string): Promise<boolean> {
    try {
      await unwrapSlot(config.key_slots, password, config.id)
      return true
    } catch (err) {
      if (isWrongPassword(err)) return false
      throw this.failure(err)
    }
  }

  /** The master key, unwrapped once with the daemon's password and kept (the tasks' copy). */
  private async master(
    store: StoreHandle,
    config: VaultConfig,
    ctx: PluginContext,
  ): Promise<MasterKey> {
    if (this.storedPassword(store.uuid) === undefined) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `Bulwark keeps no password for the vault in store ${store.uuid}; set one with POST /v1/store/${store.uuid}/vault/password (with "password", a password that opens it)`,
      )
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      let opened
      try {
        opened = await this.archives.open(store, ctx)
      } catch (err) {
        if (isWrongPassword(err)) {
          throw new BulwarkError(
            ErrorCode.Conflict,
            `the vault password Bulwark keeps for store ${store.uuid} does not open its vault (was it changed elsewhere?); set the right one with POST /v1/store/${store.uuid}/vault/password`,
          )
        }
        throw this.failure(err)
      }
      if (opened.config.id === config.id) return opened.master
      this.archives.forget(store.uuid) // the store now holds another vault
    }
    throw new BulwarkError(
      ErrorCode.Conflict,
      `the vault in store ${store.uuid} changed while it was being opened; try again`,
    )
  }

  private storedPassword(uuid: string): string | undefined {
    return this.stores.secret(uuid, VAULT_PASSWORD)
  }

  /** The store's handle, or 400 when its plugin cannot hold a vault. */
  private async vaultStore(uuid: string): Promise<StoreHandle> {
    const row = this.stores.row(uuid)
    if (!(await this.canHoldVault(row.plugin))) throw this.notVault(row.plugin, 'uuid')
    return this.handle(uuid)
  }

  private notVault(plugin: string, field: string): BulwarkError {
    return invalid(
      field,
      `stores of the ${plugin} plugin keep whole-archive blobs, not a vault (only built-in store plugins hold one)`,
    )
  }

  private async requireConfig(store: StoreHandle, ctx: PluginContext): Promise<VaultConfig> {
    const config = await this.store(() => readConfig(store.plugin, store.endpoint, ctx))
    if (!config) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `store ${store.uuid} has no vault yet: it is created by the first backup`,
      )
    }
    return config
  }

  private context(what: string, timeoutMs: number): PluginContext {
    return {
      signal: AbortSignal.timeout(timeoutMs),
      log: (line) => this.ctx.log.info(`${what}: ${line}`),
    }
  }

  /** Runs store I/O, turning its failures into errors the API can answer with. */
  private async store<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw this.failure(err)
    }
  }

  /** A store or vault failure as an error the API answers with (409 damaged vault, 502 store). */
  failure(err: unknown): unknown {
    if (err instanceof BulwarkError) return err
    if (err instanceof StoreLockedError) {
      return new BulwarkError(ErrorCode.Conflict, redactor.redact(err.message), undefined, {
        lock_id: err.holder.id,
      })
    }
    if (err instanceof VaultError) {
      return new BulwarkError(ErrorCode.Conflict, redactor.redact(err.message))
    }
    if (err instanceof PluginAbortedError || (err as Error)?.name === 'TimeoutError') {
      return new BulwarkError(ErrorCode.PluginFailed, 'the store did not answer in time')
    }
    if (err instanceof PluginError) {
      return new BulwarkError(
        ErrorCode.PluginFailed,
        redactor.redact(`the store failed: ${err.message}`),
      )
    }
    return err
  }

  /** Runs fn after every earlier key-slot change of the store has finished. */
  private locked<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
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

function summarize(m: Manifest, chunks: ReadonlyMap<string, number>): ScannedArchive {
  let storedBytes = 0
  let missing = 0
  for (const id of new Set(m.chunks.map((c) => c[0]))) {
    const size = chunks.get(id)
    if (size === undefined) missing++
    else storedBytes += size
  }
  return {
    uuid: m.archive,
    job: m.job,
    target: m.target,
    takenAt: Date.parse(m.taken_at),
    expiresAt: Date.parse(m.expires_at),
    // A tree archive's size is its files' bytes, as the backup recorded it.
    size: m.tree ? m.tree.bytes : m.size,
    format: m.tree ? 'tree' : 'vault',
    notes: m.notes,
    chunkCount: m.chunks.length,
    storedBytes,
    missing,
  }
}

function lockView(l: LockView): StoreLock {
  return {
    id: l.id,
    exclusive: l.exclusive,
    operation: l.operation,
    host: l.host,
    pid: l.pid,
    daemon: l.daemon,
    created_at: l.created_at,
    refreshed_at: l.refreshed_at,
    lease_seconds: Math.round(l.lease_ms / 1000),
    stale: l.stale,
    ours: l.ours,
  }
}
