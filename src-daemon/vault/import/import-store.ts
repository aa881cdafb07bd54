// Import (a store that already holds a vault becomes a store of this daemon)
// and rescan (a store of this daemon is read again): both scan the store
// under an exclusive lock and record what they found in the catalog.
import { randomBytes } from 'node:crypto'
import { VAULT_PASSWORD, invalid, type ImportResult, type RescanResult } from '../../contract'
import type { Catalog } from '../../catalog/catalog'
import { redactor } from '../../platform/redact'
import { addSlot, readConfig, writeConfig } from '../config'
import { parseRecoveryKey, unwrapSlot, type MasterKey } from '../keys'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { StoreHandle } from '../archives/types'
import { SCAN_TIMEOUT_MS, type VaultAccess } from '../manage/access'
import { checkPassword, failure, isWrongPassword, storeIo, wrongPassword } from '../manage/errors'
import { slotLabelDate } from '../manage/key-slots'
import { recordScan } from './record'
import { scanStore, type Scan } from './scan'

export interface VaultImport {
  /** The store's name, for the log. */
  name: string
  /** The store, not yet in the catalog (its uuid is a placeholder). */
  store: StoreHandle
  /** endpoint.vault_password, when given. */
  password: string | undefined
  /** endpoint.recovery_key (the key or the whole kit), when given. */
  recovery: string | undefined
  /** Adds the store's row, keeping `password` as its vault password; returns its uuid. */
  createRow(password: string | undefined): string
}

/**
 * Opens the vault with the password or the recovery key, then lists every
 * archive its manifests describe. Nothing is written to the catalog unless
 * the vault opens.
 */
export async function importVault(
  access: VaultAccess,
  catalog: Catalog,
  input: VaultImport,
): Promise<ImportResult> {
  const { store, password, recovery } = input
  const ctx = access.context(`import "${input.name}"`, SCAN_TIMEOUT_MS)
  const config = await storeIo(() => readConfig(store.plugin, store.endpoint, ctx))
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
      throw failure(err)
    }
  }

  const scan = await lockedScan(access, store, master, ctx)
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
    (password === undefined || !(await access.opens(config, password)))
  ) {
    if (password !== undefined) checkPassword(password, `endpoint.${VAULT_PASSWORD}`)
    kept = password ?? randomBytes(18).toString('base64url')
    opened = await addSlot(config, master, kept, `recovered ${slotLabelDate()}`)
    await storeIo(() => writeConfig(store.plugin, store.endpoint, opened, ctx))
  }

  const { archives, clock, log } = access.deps
  const { uuid, added } = catalog.transaction(() => {
    const uuid = input.createRow(kept)
    const { added } = recordScan(catalog, archives.index(uuid), uuid, scan, clock.now())
    return { uuid, added }
  })
  archives.remember(uuid, { config: opened, master })
  announce(access, added)
  report(access, uuid, scan, added.length)
  if (typeof recovery === 'string' && password === undefined) {
    log.warn(
      `store ${uuid} was imported with its recovery key; Bulwark added a key slot for a password it generated (set your own with POST /v1/store/${uuid}/vault/password)`,
    )
  }
  return { ok: 'created', uuid, archives: added.length, skipped: scan.damaged.length }
}

/** Rescans a store already in the catalog: adds the archives its manifests describe and the catalog lacks. */
export async function rescan(
  access: VaultAccess,
  catalog: Catalog,
  uuid: string,
): Promise<RescanResult> {
  const store = await access.vaultStore(uuid)
  const ctx = access.context(`store ${uuid}`, SCAN_TIMEOUT_MS)
  const config = await access.requireConfig(store, ctx)
  const master = await access.master(store, config, ctx)
  const scan = await lockedScan(access, store, master, ctx)
  const { archives, clock, log, emit } = access.deps
  const { added, gone } = catalog.transaction(() =>
    recordScan(catalog, archives.index(uuid), uuid, scan, clock.now()),
  )
  announce(access, added)
  for (const archive of gone) {
    log.warn(
      `archive ${archive}: its manifest is no longer in store ${uuid} (deleted by another daemon, or by hand); marked purged`,
    )
    emit({ type: 'resource', kind: 'archive', uuid: archive, action: 'updated' })
  }
  report(access, uuid, scan, added.length)
  return { ok: 'updated', archives: added.length, skipped: scan.damaged.length, gone: gone.length }
}

/** The scan, under an exclusive store lock (GC, rescan, import, recover exclude each other). */
function lockedScan(
  access: VaultAccess,
  store: StoreHandle,
  master: MasterKey,
  outer: PluginContext,
): Promise<Scan> {
  return access.exclusively(store, outer, 'rescan', (ctx) =>
    storeIo(() => scanStore(store, master, ctx)),
  )
}

function announce(access: VaultAccess, archives: string[]): void {
  for (const uuid of archives) {
    access.deps.emit({ type: 'resource', kind: 'archive', uuid, action: 'created' })
  }
}

function report(access: VaultAccess, storeUuid: string, scan: Scan, added: number): void {
  const { log } = access.deps
  log.info(
    `store ${storeUuid}: found ${scan.archives.length} archive(s) and ${scan.chunks.size} chunk(s) in its vault; ${added} archive(s) added to the catalog`,
  )
  for (const a of scan.archives) {
    if (a.missing > 0) {
      log.warn(
        `archive ${a.uuid}: ${a.missing} of its chunks are missing from store ${storeUuid}; it cannot be restored`,
      )
    }
  }
  for (const d of scan.damaged) {
    log.warn(`store ${storeUuid}: skipped a damaged manifest: ${d.message}`)
  }
}
