// A store's vault as the Vault view shows it: its totals and key slots (or
// "no vault yet" before the first backup), its locks, kept current from the
// event stream, and the recovery kit saved as a text file.
import { onScopeDispose, ref, watch, type Ref } from 'vue'
import { ApiError } from '../../../src-daemon/client'
import { MIN_VAULT_PASSWORD, type StoreLock, type VaultInfo } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { FINISHED } from '../stores/tasks'
import { describeError } from './errors'

export const VAULT_PASSWORD_HINT =
  'Optional. Leave empty and Bulwark generates one; export the recovery kit to keep a copy.'

/** A new vault password's problem, or undefined when it will do. */
export function checkNewPassword(value: string): string | undefined {
  if (value.length < MIN_VAULT_PASSWORD) return `At least ${MIN_VAULT_PASSWORD} characters, please`
  return undefined
}

/** The daemon's 409 for a store whose first backup has not run: not a failure. */
export const isNoVault = (err: unknown) =>
  err instanceof ApiError && err.status === 409 && /no vault yet/i.test(err.message)

export function useVault(uuid: Ref<string | null>) {
  const conn = useConnection()
  const info = ref<VaultInfo | null>(null)
  const noVault = ref(false)
  const error = ref<string | null>(null)
  const loading = ref(false)
  const locks = ref<StoreLock[]>([])
  const locksError = ref<string | null>(null)
  let seq = 0

  async function reload() {
    const id = uuid.value
    const mine = ++seq
    if (!id) return
    loading.value = true
    const [vault, held] = await Promise.allSettled([
      conn.client.getVault(id),
      conn.client.listLocks(id),
    ])
    if (mine !== seq) return
    loading.value = false
    info.value = vault.status === 'fulfilled' ? vault.value : null
    noVault.value = vault.status === 'rejected' && isNoVault(vault.reason)
    error.value = vault.status === 'rejected' && !noVault.value ? describeError(vault.reason) : null
    locks.value = held.status === 'fulfilled' ? held.value.locks : []
    locksError.value =
      held.status === 'rejected' && !isNoVault(held.reason) ? describeError(held.reason) : null
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  const soon = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void reload(), 150)
  }
  // A backup creates the vault, a GC changes its totals, a password change its slots.
  const off = conn.onEvent((e) => {
    if (e.type === 'resource' && e.kind === 'store' && e.uuid === uuid.value) soon()
    else if (e.type === 'task' && FINISHED.includes(e.status)) soon()
  })
  const stop = watch(
    [uuid, () => conn.epoch],
    () => {
      info.value = null
      noVault.value = false
      error.value = null
      locks.value = []
      locksError.value = null
      void reload()
    },
    { immediate: true },
  )
  onScopeDispose(() => {
    off()
    stop()
    clearTimeout(timer)
  })
  return { info, noVault, error, loading, locks, locksError, reload }
}

/** `bulwark-recovery-kit-<store>.txt`, the store's name made safe for a file name. */
export function recoveryKitFileName(storeName: string): string {
  const safe = storeName.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'store'
  return `bulwark-recovery-kit-${safe}.txt`
}

/** Saves text as a file through a Blob and a hidden <a download>; nothing leaves the page. */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
