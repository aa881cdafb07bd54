// The locks in a store, as a person sees them (GET /v1/store/:uuid/locks),
// and breaking one left by a daemon that died (or any, with force).
import { BulwarkError, ErrorCode, type StoreLock, type StoreLocks } from '../../contract'
import { breakLock as breakStoreLock, describeLock, listLocks, type LockView } from '../store-lock'
import { CONFIG_TIMEOUT_MS, type VaultAccess } from './access'
import { storeIo } from './errors'

export async function locks(access: VaultAccess, uuid: string): Promise<StoreLocks> {
  const store = await access.vaultStore(uuid)
  const ctx = access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
  const found = await storeIo(() =>
    listLocks(store.plugin, store.endpoint, ctx, access.deps.clock.now()),
  )
  return { locks: found.map(lockView) }
}

/** A stale lock, or any with force; `by` says who, in the log. */
export async function breakLock(
  access: VaultAccess,
  uuid: string,
  id: string,
  force: boolean,
  by: string,
): Promise<void> {
  const store = await access.vaultStore(uuid)
  const ctx = access.context(`store ${uuid}`, CONFIG_TIMEOUT_MS)
  const broken = await storeIo(() =>
    breakStoreLock(store.plugin, store.endpoint, ctx, id, { force, now: access.deps.clock.now() }),
  )
  if (!broken) {
    throw new BulwarkError(ErrorCode.NotFound, `store ${uuid} has no lock ${id}`, 'id')
  }
  access.log.warn(`store ${uuid}: ${by} broke ${describeLock(broken)}`)
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
