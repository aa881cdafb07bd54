// A vault's key slots: each wraps the one master key with a password, so a
// password is changed, added or removed without rewriting any data. The
// daemon's own password (kept in its secrets) must always open a slot.
import {
  BulwarkError,
  ErrorCode,
  invalid,
  type VaultPasswordInput,
  type VaultSlotInput,
} from '../../contract'
import { addSlot, removeSlot, writeConfig } from '../config'
import { unwrapSlot, type MasterKey } from '../keys'
import { CONFIG_TIMEOUT_MS, type VaultAccess } from './access'
import { checkPassword, failure, isWrongPassword, storeIo, wrongPassword } from './errors'

export const slotLabelDate = () => new Date().toISOString().slice(0, 10)

/**
 * A new password for the vault, without rewriting any data: a slot for the
 * new password is added, the daemon keeps it, then the slot that the old
 * one opened is removed (in that order, so a failure half-way never locks
 * anyone out).
 */
export async function changePassword(
  access: VaultAccess,
  uuid: string,
  input: VaultPasswordInput,
): Promise<void> {
  checkPassword(input.new_password, 'new_password')
  const { archives, stores, log, emit } = access.deps
  const store = await access.vaultStore(uuid)
  await access.locked(uuid, async () => {
    const ctx = access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const config = await access.requireConfig(store, ctx)
    const old = input.password ?? access.storedPassword(uuid)
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
      throw failure(err)
    }
    const added = await addSlot(config, opened.master, input.new_password, opened.slot.label)
    const slot = added.key_slots.at(-1)!
    await storeIo(() => writeConfig(store.plugin, store.endpoint, added, ctx))
    stores.savePassword(uuid, input.new_password)
    archives.forget(uuid)
    await storeIo(() =>
      writeConfig(store.plugin, store.endpoint, removeSlot(added, opened.slot.id), ctx),
    )
    log.info(
      `store ${uuid}: vault password changed (key slot ${opened.slot.id} replaced by ${slot.id}); no data was rewritten`,
    )
    emit({ type: 'resource', kind: 'store', uuid, action: 'updated' })
  })
}

/** Adds a key slot for another password; returns its id. */
export async function addKeySlot(
  access: VaultAccess,
  uuid: string,
  input: VaultSlotInput,
): Promise<string> {
  checkPassword(input.password, 'password')
  const store = await access.vaultStore(uuid)
  return access.locked(uuid, async () => {
    const ctx = access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const config = await access.requireConfig(store, ctx)
    const master = await access.master(store, config, ctx)
    const label = input.label ?? `added ${slotLabelDate()}`
    const next = await addSlot(config, master, input.password, label)
    await storeIo(() => writeConfig(store.plugin, store.endpoint, next, ctx))
    const slot = next.key_slots.at(-1)!
    access.log.info(`store ${uuid}: key slot ${slot.id} ("${label}") added to its vault`)
    return slot.id
  })
}

/** Removes a key slot; never the last one, nor the one the daemon's own password needs. */
export async function removeKeySlot(access: VaultAccess, uuid: string, id: string): Promise<void> {
  const store = await access.vaultStore(uuid)
  await access.locked(uuid, async () => {
    const ctx = access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
    const config = await access.requireConfig(store, ctx)
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
    const own = access.storedPassword(uuid)
    if (
      own !== undefined &&
      !(await access.opens(next, own)) &&
      (await access.opens({ ...config, key_slots: [slot] }, own))
    ) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `key slot ${id} is the one Bulwark's own vault password for store ${uuid} opens; change the vault password first (POST /v1/store/${uuid}/vault/password), then remove the slot`,
      )
    }
    await storeIo(() => writeConfig(store.plugin, store.endpoint, next, ctx))
    access.log.info(`store ${uuid}: key slot ${id} ("${slot.label}") removed from its vault`)
  })
}
