// vault.json, the one plaintext object of a vault (docs/vault-format.md): its
// strict parser, creation of a new vault, key slot changes (add, remove,
// change password: the master key never changes, no data is rewritten), and
// reading and writing it through a store plugin.
import { randomUUID } from 'node:crypto'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { checkChunkerParams, DEFAULT_CHUNKING, type ChunkerParams } from './chunker'
import { checkSlot, newMasterKey, unwrapSlot, wrapKey, type KeySlot, type MasterKey } from './keys'
import { fetchObject } from './fetch'
import { UUID_RE, VaultError } from './objects'

export interface VaultConfig {
  format: 'bulwark-vault'
  version: 1
  id: string
  created_at: string
  chunking: { algorithm: 'fastcdc-gear32'; min: number; avg: number; max: number }
  compression: 'zstd'
  encryption: 'aes-256-gcm'
  chunk_id: 'hmac-sha256'
  key_slots: KeySlot[]
}

export const CONFIG_KEY = 'vault.json'
/** vault.json is a few KiB; anything far bigger is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024

const corrupt = (why: string) => new VaultError('corrupt', `vault.json is corrupt: ${why}`)
const unsupported = (what: string, value: unknown, known: string) =>
  new VaultError(
    'unsupported',
    `vault.json has ${what} ${JSON.stringify(value)}; this Bulwark knows ${known}`,
  )

/** Validates every field; returns a clean copy. */
function checkConfig(x: unknown): VaultConfig {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw corrupt('not a JSON object')
  const c = x as Record<string, unknown>
  if (c.format !== 'bulwark-vault') throw unsupported('format', c.format, '"bulwark-vault"')
  if (c.version !== 1) throw unsupported('version', c.version, 'version 1')
  if (typeof c.id !== 'string' || !UUID_RE.test(c.id)) throw corrupt('"id" is not a uuid')
  if (typeof c.created_at !== 'string') throw corrupt('"created_at" is not a string')
  const ch = c.chunking as Record<string, unknown> | null
  if (typeof ch !== 'object' || ch === null) throw corrupt('"chunking" is missing')
  if (ch.algorithm !== 'fastcdc-gear32') {
    throw unsupported('chunking algorithm', ch.algorithm, '"fastcdc-gear32"')
  }
  const { min, avg, max } = ch
  if (typeof min !== 'number' || typeof avg !== 'number' || typeof max !== 'number') {
    throw corrupt('chunk sizes are not numbers')
  }
  try {
    if (![min, avg, max].every(Number.isSafeInteger)) throw new Error('not integers')
    checkChunkerParams({ min, avg, max })
  } catch (err) {
    throw corrupt(`bad chunk sizes (${(err as Error).message})`)
  }
  if (c.compression !== 'zstd') throw unsupported('compression', c.compression, '"zstd"')
  if (c.encryption !== 'aes-256-gcm') throw unsupported('encryption', c.encryption, '"aes-256-gcm"')
  if (c.chunk_id !== 'hmac-sha256') throw unsupported('chunk_id', c.chunk_id, '"hmac-sha256"')
  if (!Array.isArray(c.key_slots) || c.key_slots.length === 0) throw corrupt('it has no key slot')
  const slots = c.key_slots.map(checkSlot)
  if (new Set(slots.map((s) => s.id)).size !== slots.length)
    throw corrupt('two key slots share an id')
  return {
    format: 'bulwark-vault',
    version: 1,
    id: c.id,
    created_at: c.created_at,
    chunking: { algorithm: 'fastcdc-gear32', min, avg, max },
    compression: 'zstd',
    encryption: 'aes-256-gcm',
    chunk_id: 'hmac-sha256',
    key_slots: slots,
  }
}

/** Strict: an unknown format, version or algorithm → 'unsupported'; anything malformed → 'corrupt'. */
export function parseConfig(text: string): VaultConfig {
  let x: unknown
  try {
    x = JSON.parse(text)
  } catch (err) {
    throw corrupt(`not valid JSON (${(err as Error).message})`)
  }
  return checkConfig(x)
}

/** A new vault: fresh id and master key, one key slot for password. Nothing is written. */
export async function initVault(
  password: string,
  opts: { chunking?: ChunkerParams; N?: number; now?: Date } = {},
): Promise<{ config: VaultConfig; master: MasterKey }> {
  const chunking = opts.chunking ?? DEFAULT_CHUNKING
  checkChunkerParams(chunking)
  const now = opts.now ?? new Date()
  const id = randomUUID()
  const master = newMasterKey()
  const slot = await wrapKey(master, password, id, { N: opts.N, now })
  const config = checkConfig({
    format: 'bulwark-vault',
    version: 1,
    id,
    created_at: now.toISOString(),
    chunking: { algorithm: 'fastcdc-gear32', ...chunking },
    compression: 'zstd',
    encryption: 'aes-256-gcm',
    chunk_id: 'hmac-sha256',
    key_slots: [slot],
  })
  return { config, master }
}

/**
 * vault.json for an existing vault whose config was lost: its id and master
 * key (from the recovery kit), one slot for password. The chunk sizes it used
 * are not in the kit: new backups chunk at today's defaults (old archives
 * read as before; they may share fewer chunks with new ones).
 */
export async function rebuildConfig(
  id: string,
  master: MasterKey,
  password: string,
  opts: { N?: number; now?: Date } = {},
): Promise<VaultConfig> {
  const now = opts.now ?? new Date()
  const slot = await wrapKey(master, password, id, { N: opts.N, now, label: 'recovered' })
  return checkConfig({
    format: 'bulwark-vault',
    version: 1,
    id,
    created_at: now.toISOString(),
    chunking: { algorithm: 'fastcdc-gear32', ...DEFAULT_CHUNKING },
    compression: 'zstd',
    encryption: 'aes-256-gcm',
    chunk_id: 'hmac-sha256',
    key_slots: [slot],
  })
}

/**
 * A copy of config with one more slot, opened by password. master must be
 * this vault's key (from unwrapKey or initVault): a slot wrapping any other
 * key would open, but to data that is not there.
 */
export async function addSlot(
  config: VaultConfig,
  master: MasterKey,
  password: string,
  label?: string,
  N?: number,
): Promise<VaultConfig> {
  const slot = await wrapKey(master, password, config.id, { label, N })
  return { ...config, key_slots: [...config.key_slots, slot] }
}

/** A copy of config without the slot; refuses to remove the last one. */
export function removeSlot(config: VaultConfig, slotId: string): VaultConfig {
  if (!config.key_slots.some((s) => s.id === slotId)) {
    throw new VaultError('missing', `the vault has no key slot ${slotId}`)
  }
  if (config.key_slots.length === 1) {
    throw new Error(
      'refusing to remove the last key slot: the vault could never be opened with a password again',
    )
  }
  return { ...config, key_slots: config.key_slots.filter((s) => s.id !== slotId) }
}

/** Opens with oldPassword, adds a slot for newPassword (same label), drops the slot that opened. */
export async function changePassword(
  config: VaultConfig,
  oldPassword: string,
  newPassword: string,
  N?: number,
): Promise<VaultConfig> {
  const { master, slot } = await unwrapSlot(config.key_slots, oldPassword, config.id)
  const added = await addSlot(config, master, newPassword, slot.label, N)
  return removeSlot(added, slot.id)
}

/** The store's vault.json, or null when it has none. */
export async function readConfig(
  store: StorePlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
): Promise<VaultConfig | null> {
  const head = await store.head(endpoint, CONFIG_KEY, ctx)
  if (head === null) return null
  if (head.size > MAX_CONFIG_BYTES) throw corrupt(`it is ${head.size} bytes`)
  const text = await fetchObject(store, endpoint, CONFIG_KEY, ctx, MAX_CONFIG_BYTES, CONFIG_KEY)
  return parseConfig(text.toString('utf8'))
}

/** Writes vault.json (the store's put is atomic: readers see the old file or the new one). */
export async function writeConfig(
  store: StorePlugin,
  endpoint: Endpoint,
  config: VaultConfig,
  ctx: PluginContext,
): Promise<void> {
  const text = `${JSON.stringify(checkConfig(config), null, 2)}\n`
  await store.put(endpoint, CONFIG_KEY, retryableBody([Buffer.from(text)]), ctx)
}
