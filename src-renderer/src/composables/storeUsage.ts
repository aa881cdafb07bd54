// What each store holds, for the dashboard: its vault's totals, "empty"
// before its first backup, or (a store of one blob per archive) its archives
// counted from the archive list.
import { computed, shallowRef, watch } from 'vue'
import { ApiError } from '../../../src-daemon/client'
import type { Store, VaultInfo } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { describeError } from './errors'
import { useList } from './useList'

export type StoreUsageState = 'loading' | 'vault' | 'empty' | 'blobs' | 'error'

export interface StoreUsage {
  store: Store
  state: StoreUsageState
  vault: VaultInfo | null
  /** Archives not purged (from the vault, or counted from the archive list for blob stores). */
  archives: number | null
  /** Their plaintext bytes. */
  logicalBytes: number | null
  /** What the store holds on disk (vault stores only). */
  storedBytes: number | null
  error: string | null
}

/** Each store's totals: its vault's (409 before the first backup: empty), or its blobs'. */
export function useStoreUsage() {
  const conn = useConnection()
  const stores = useList<Store>(() => conn.client.listStores(), {
    kinds: ['store', 'archive'],
    onTaskFinished: true,
  })
  const byUuid = shallowRef(new Map<string, StoreUsage>())
  let seq = 0

  async function usageOf(store: Store): Promise<StoreUsage> {
    const base = { store, vault: null, archives: null, logicalBytes: null, storedBytes: null }
    try {
      const vault = await conn.client.getVault(store.uuid)
      return {
        ...base,
        state: 'vault',
        vault,
        archives: vault.archives,
        logicalBytes: vault.logical_bytes,
        storedBytes: vault.stored_bytes,
        error: null,
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        return {
          ...base,
          state: 'empty',
          archives: 0,
          logicalBytes: 0,
          storedBytes: 0,
          error: null,
        }
      }
      if (!(err instanceof ApiError && err.status === 400)) {
        return { ...base, state: 'error', error: describeError(err) }
      }
    }
    // Not a vault (an external store keeps one blob per archive): count its archives.
    try {
      const archives = (await conn.client.listArchives({ store: store.uuid })).filter(
        (a) => a.status !== 'purged',
      )
      return {
        ...base,
        state: 'blobs',
        archives: archives.length,
        logicalBytes: archives.reduce((n, a) => n + (a.size ?? 0), 0),
        error: null,
      }
    } catch (err) {
      return { ...base, state: 'error', error: describeError(err) }
    }
  }

  async function load(list: Store[]) {
    const mine = ++seq
    const results = await Promise.all(list.map(usageOf))
    if (mine === seq) byUuid.value = new Map(results.map((u) => [u.store.uuid, u]))
  }
  watch(stores.items, (list) => void load(list))

  const usage = computed<StoreUsage[]>(() =>
    stores.items.value
      .map(
        (store): StoreUsage =>
          byUuid.value.get(store.uuid) ?? {
            store,
            state: 'loading',
            vault: null,
            archives: null,
            logicalBytes: null,
            storedBytes: null,
            error: null,
          },
      )
      .sort((a, b) => a.store.name.localeCompare(b.store.name)),
  )
  return { stores, usage }
}
