// Wire shapes of a store's vault: its password and key slots, the recovery
// kit, its locks, and importing or rescanning a store that holds one.
import { Type, type Static } from '@sinclair/typebox'
import { Strict, Uuid } from './fields'

/**
 * Vault passwords: only their type is checked by the schema, their length by
 * the service, so that a rejected password is never echoed in an error.
 */
const Password = Type.String()
/** The endpoint field of a store that holds its vault password (the daemon's, never the plugin's). */
export const VAULT_PASSWORD = 'vault_password'
export const MIN_VAULT_PASSWORD = 8
export const MAX_VAULT_PASSWORD = 4096
export const VaultPasswordChange = Type.Object(
  { new_password: Password, password: Type.Optional(Password) },
  Strict,
)
export const VaultSlotCreate = Type.Object(
  { password: Password, label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  Strict,
)
/** POST /v1/store/:uuid/vault/recover: rewrites a lost vault.json from the recovery kit. */
export const VaultRecover = Type.Object(
  {
    recovery_key: Type.String({ minLength: 1, maxLength: 10_000 }),
    password: Type.Optional(Password),
  },
  Strict,
)
export type VaultRecoverInput = Static<typeof VaultRecover>
export const LockParams = Type.Object({
  uuid: Uuid,
  id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'a lock id (32 hex digits)' }),
})

export type VaultPasswordInput = Static<typeof VaultPasswordChange>
export type VaultSlotInput = Static<typeof VaultSlotCreate>

/** A key slot of a vault: one password that opens it (the password itself is never served). */
export interface VaultKeySlot {
  id: string
  label: string
  created_at: string
}

/**
 * A lock object in a store's vault (locks/<id>): GC, rescan and import hold
 * an exclusive one; backups, restores and verifies a shared one. A lock whose
 * holder stopped refreshing it for longer than its lease (or whose process on
 * this host is gone) is stale and may be broken.
 */
export interface StoreLock {
  id: string
  exclusive: boolean
  /** What holds it: "gc", "backup", "rescan", ... */
  operation: string
  host: string
  pid: number
  /** The data directory (daemon) that holds it. */
  daemon: string
  created_at: string
  refreshed_at: string
  /** How long a lock lives without a refresh, in seconds. */
  lease_seconds: number
  stale: boolean
  /** Whether this daemon holds it. */
  ours: boolean
}

/** GET /v1/store/:uuid/locks */
export interface StoreLocks {
  locks: StoreLock[]
}

/** DELETE /v1/store/:uuid/lock/:id: a lock that is not stale is kept unless force=t. */
export const LockBreakQuery = Type.Object({
  force: Type.Optional(
    Type.Union([Type.Literal('t'), Type.Literal('true'), Type.Literal('f'), Type.Literal('false')]),
  ),
})

/** GET /v1/store/:uuid/vault */
export interface VaultInfo {
  vault_id: string
  created_at: string
  chunking: { min: number; avg: number; max: number }
  key_slots: VaultKeySlot[]
  /** Chunks in the store, as far as the catalog knows. */
  chunks: number
  /** Stored (compressed, encrypted) bytes of those chunks. */
  stored_bytes: number
  /** Archives of the store that are not purged. */
  archives: number
  /** Their plaintext bytes. */
  logical_bytes: number
}

/** POST /v1/stores/import */
export interface ImportResult {
  ok: 'created'
  uuid: string
  /** Archives added to the catalog. */
  archives: number
  /** Manifests found in the store that could not be read (damaged); listed in the daemon log. */
  skipped: number
}

/** POST /v1/store/:uuid/import (a rescan of a store already in the catalog) */
export interface RescanResult {
  ok: 'updated'
  /** Archives found in the store that the catalog lacked, now listed. */
  archives: number
  /** Manifests that could not be opened (damaged). */
  skipped: number
  /** Archives the catalog listed whose manifest is gone from the store, now marked purged. */
  gone: number
}
