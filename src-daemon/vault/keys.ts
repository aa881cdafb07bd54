// The vault's master key and the key slots that wrap it (docs/vault-format.md,
// "Keys"). A slot is AES-256-GCM over the 64 master bytes under a key derived
// from a password with scrypt, bound to the vault id and the slot id. scrypt
// runs asynchronously (libuv pool), so unlocking never blocks the event loop.
// The recovery kit is the same master key written out for a person to keep.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  randomUUID,
  scrypt,
} from 'node:crypto'
import { VaultError } from './objects'

export interface MasterKey {
  /** AES-256-GCM key for every object: master[0:32]. */
  encKey: Buffer
  /** HMAC-SHA256 key for chunk ids and the gear table: master[32:64]. */
  idKey: Buffer
  /** All 64 bytes. */
  raw: Buffer
}

export interface KdfParams {
  algorithm: 'scrypt'
  N: number
  r: number
  p: number
  salt: string
}

export interface KeySlot {
  id: string
  label: string
  created_at: string
  kdf: KdfParams
  wrapped: string
}

export const MASTER_KEY_BYTES = 64
export const DEFAULT_SCRYPT_N = 2 ** 17
const SCRYPT_R = 8
const SCRYPT_P = 1
const SALT_BYTES = 32
const NONCE = 12
const TAG = 16
const WRAPPED_BYTES = NONCE + MASTER_KEY_BYTES + TAG
/** scrypt cost bounds a reader accepts, so a tampered vault.json cannot demand unbounded memory. */
const MIN_N = 2 ** 10
const MAX_SCRYPT_MEM = 1024 * 1024 * 1024
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/

export function newMasterKey(): MasterKey {
  return masterKeyFromRaw(randomBytes(MASTER_KEY_BYTES))
}

export function masterKeyFromRaw(raw: Buffer): MasterKey {
  if (raw.length !== MASTER_KEY_BYTES) {
    throw new Error(`a vault master key is ${MASTER_KEY_BYTES} bytes, not ${raw.length}`)
  }
  const copy = Buffer.from(raw)
  return { encKey: copy.subarray(0, 32), idKey: copy.subarray(32, 64), raw: copy }
}

/** Strict base64 decoding (Buffer.from skips bad characters silently); null when malformed. */
export function decodeBase64(text: string, bytes: number): Buffer | null {
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) return null
  const buf = Buffer.from(text, 'base64')
  return buf.length === bytes && buf.toString('base64') === text ? buf : null
}

/** Throws VaultError 'corrupt' / 'unsupported' unless x is a well-formed key slot. */
export function checkSlot(x: unknown): KeySlot {
  const bad = (why: string) => new VaultError('corrupt', `vault.json is corrupt: key slot ${why}`)
  if (typeof x !== 'object' || x === null) throw bad('is not an object')
  const s = x as Record<string, unknown>
  if (typeof s.id !== 'string' || s.id === '') throw bad('has no id')
  const name = `"${s.id}"`
  if (typeof s.label !== 'string') throw bad(`${name} has no label`)
  if (typeof s.created_at !== 'string') throw bad(`${name} has no created_at`)
  if (typeof s.kdf !== 'object' || s.kdf === null) throw bad(`${name} has no kdf`)
  const k = s.kdf as Record<string, unknown>
  if (k.algorithm !== 'scrypt') {
    throw new VaultError(
      'unsupported',
      `key slot ${name} uses key derivation "${String(k.algorithm)}", unknown to this Bulwark`,
    )
  }
  const { N, r, p } = k
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0
  if (!int(N) || !int(r) || !int(p) || !Number.isInteger(Math.log2(N)) || N < MIN_N) {
    throw bad(`${name} has bad scrypt parameters`)
  }
  if (128 * N * r > MAX_SCRYPT_MEM || p > 16) throw bad(`${name} asks scrypt for too much work`)
  if (typeof k.salt !== 'string' || !decodeBase64(k.salt, SALT_BYTES))
    throw bad(`${name} has a bad salt`)
  if (typeof s.wrapped !== 'string' || !decodeBase64(s.wrapped, WRAPPED_BYTES)) {
    throw bad(`${name} has a bad wrapped key`)
  }
  return {
    id: s.id,
    label: s.label,
    created_at: s.created_at,
    kdf: { algorithm: 'scrypt', N, r, p, salt: k.salt },
    wrapped: s.wrapped,
  }
}

function deriveKek(password: string, kdf: KdfParams): Promise<Buffer> {
  const salt = Buffer.from(kdf.salt, 'base64')
  const { N, r, p } = kdf
  // scrypt needs 128·N·r bytes (plus a little per p); node's default cap is 32 MiB.
  const maxmem = 128 * N * r + 128 * r * p + 16 * 1024 * 1024
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, 32, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )
}

const slotAad = (vaultId: string, slotId: string) =>
  Buffer.from(`bulwark-vault-key:${vaultId}:${slotId}`)

/** Wraps the master key under a new slot opened by password. */
export async function wrapKey(
  master: MasterKey,
  password: string,
  vaultId: string,
  opts: { label?: string; N?: number; now?: Date } = {},
): Promise<KeySlot> {
  if (password === '') throw new Error('the vault password must not be empty')
  const now = opts.now ?? new Date()
  const slot: KeySlot = {
    id: randomUUID(),
    label: opts.label ?? `created ${now.toISOString().slice(0, 10)}`,
    created_at: now.toISOString(),
    kdf: {
      algorithm: 'scrypt',
      N: opts.N ?? DEFAULT_SCRYPT_N,
      r: SCRYPT_R,
      p: SCRYPT_P,
      salt: randomBytes(SALT_BYTES).toString('base64'),
    },
    wrapped: '',
  }
  const kek = await deriveKek(password, slot.kdf)
  const nonce = randomBytes(NONCE)
  const cipher = createCipheriv('aes-256-gcm', kek, nonce)
  cipher.setAAD(slotAad(vaultId, slot.id))
  const ct = Buffer.concat([cipher.update(master.raw), cipher.final()])
  slot.wrapped = Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64')
  return checkSlot(slot) // also refuses an N out of bounds
}

/** Like unwrapKey, and says which slot opened. */
export async function unwrapSlot(
  slots: KeySlot[],
  password: string,
  vaultId: string,
): Promise<{ master: MasterKey; slot: KeySlot }> {
  if (slots.length === 0) {
    throw new VaultError('corrupt', 'vault.json has no key slot; only the recovery key opens it')
  }
  for (const slot of slots.map(checkSlot)) {
    const kek = await deriveKek(password, slot.kdf)
    const wrapped = Buffer.from(slot.wrapped, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, NONCE))
    decipher.setAAD(slotAad(vaultId, slot.id))
    decipher.setAuthTag(wrapped.subarray(NONCE + MASTER_KEY_BYTES))
    try {
      const raw = Buffer.concat([
        decipher.update(wrapped.subarray(NONCE, NONCE + MASTER_KEY_BYTES)),
        decipher.final(),
      ])
      return { master: masterKeyFromRaw(raw), slot }
    } catch {
      // not this slot's password (or a damaged slot: the two look the same)
    }
  }
  throw new VaultError('wrong_password', 'the vault password is wrong (no key slot opens with it)')
}

/** Tries each slot in turn (one scrypt each); wrong password → VaultError 'wrong_password'. */
export async function unwrapKey(
  slots: KeySlot[],
  password: string,
  vaultId: string,
): Promise<MasterKey> {
  return (await unwrapSlot(slots, password, vaultId)).master
}

/** A short check value over all 64 bytes, so a mistyped recovery key is caught when entered. */
const keyCheck = (master: MasterKey) =>
  createHmac('sha256', master.raw).update('bulwark-key-check').digest('hex').slice(0, 8)

export function recoveryKit(vaultId: string, master: MasterKey): string {
  return [
    'BULWARK VAULT RECOVERY KIT',
    '',
    `Vault:        ${vaultId}`,
    `Recovery key: ${master.raw.toString('base64')}`,
    `Key check:    ${keyCheck(master)}`,
    '',
    'This key opens every archive of the vault above without any password, and',
    'nothing else can if every password is lost. Keep it offline (printed, or in',
    'a password manager), never next to the store: whoever holds both can read',
    'every backup. To recover, give Bulwark the store and this key (the whole',
    'text, or just the recovery key line), then set a new password.',
    '',
  ].join('\n')
}

/** Accepts a whole recovery kit or a bare base64 key; checks the key check when present. */
export function parseRecoveryKey(text: string): { vaultId?: string; master: MasterKey } {
  const field = (label: string) => new RegExp(`^\\s*${label}:\\s*(\\S+)\\s*$`, 'mi').exec(text)?.[1]
  const encoded = field('Recovery key') ?? text.replace(/\s+/g, '')
  const raw = decodeBase64(encoded, MASTER_KEY_BYTES)
  if (!raw) {
    throw new Error(
      `not a recovery key: expected ${MASTER_KEY_BYTES} bytes of base64 (88 characters) or a recovery kit`,
    )
  }
  const master = masterKeyFromRaw(raw)
  const check = field('Key check')
  if (check !== undefined && check.toLowerCase() !== keyCheck(master)) {
    throw new Error('the recovery key does not match its key check: it was mistyped')
  }
  const vaultId = field('Vault')
  return vaultId === undefined ? { master } : { vaultId, master }
}
