// @vitest-environment happy-dom
// A store's Vault view against a real daemon: "no vault yet" before the first
// backup; then the password changed (a wrong current one refused on its
// field), passwords added and removed (the daemon's refusal shown), the
// recovery kit saved and shown once, a garbage collection linked to its task,
// and the vault's locks listed and broken.
import { flushPromises } from '@vue/test-utils'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Store, StoreLocks, VaultInfo } from '../../src-daemon/contract'
import VaultDrawer from '../../src-renderer/src/components/vault/VaultDrawer.vue'
import { useConnection } from '../../src-renderer/src/stores/connection'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'
import {
  allByTestId,
  byTestId,
  mountEditor,
  save,
  startUiDaemon,
  text,
  type,
  unmountAll,
  until,
} from '../helpers/ui'

const FIRST = 'first vault password'
const SECOND = 'second vault password'

let d: RunningDaemon
let store: Store
const storeDir = tempDir('bulwark-ui-vault-store-')
let empty: Store
let job: string

const vaultOf = async (uuid: string) => d.api<VaultInfo>('GET', `/v1/store/${uuid}/vault`)
async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}
const backup = () => runTask(d, `/v1/job/${job}/run`)

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
  const source = tempDir('bulwark-ui-vault-src-')
  writeFileSync(join(source, 'data.txt'), 'vault view\n'.repeat(1000))
  const storeUuid = await created('/v1/stores', {
    name: 'ui-vault',
    plugin: 'fs',
    endpoint: { path: storeDir, vault_password: FIRST },
  })
  const emptyUuid = await created('/v1/stores', {
    name: 'no-backup-yet',
    plugin: 'fs',
    endpoint: { path: tempDir() },
  })
  job = await created('/v1/jobs', {
    name: 'ui-vault-job',
    target: await created('/v1/targets', {
      name: 'ui-vault-src',
      plugin: 'files',
      endpoint: { path: source },
    }),
    store: storeUuid,
    schedule: await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' }),
    retention: await created('/v1/retention', { name: 'week', expires: 7 * 86400 }),
    paused: true,
  })
  const task = await backup()
  expect(task.status, task.log).toBe('done')
  store = (await d.api<Store>('GET', `/v1/store/${storeUuid}`)).body
  empty = (await d.api<Store>('GET', `/v1/store/${emptyUuid}`)).body
}, 60_000)
afterAll(async () => {
  await d.stop()
})
afterEach(() => {
  vi.restoreAllMocks()
  unmountAll()
})

/** The Vault view of `s`, its vault (or "no vault yet") shown. */
async function mountVault(s: Store) {
  await mountEditor(d, VaultDrawer, { store: s })
  await until(() => byTestId('vault-id') ?? byTestId('vault-none'), 'the vault to load')
}

/** Clicks the (last shown) button whose text is `label`: a dialog's answer, say. */
async function clickButton(label: string) {
  const button = [...document.querySelectorAll<HTMLButtonElement>('button')]
    .filter((b) => b.textContent?.trim() === label)
    .at(-1)
  if (!button) throw new Error(`no button "${label}"`)
  button.click()
  await flushPromises()
}

const fieldError = (name: string) =>
  document.querySelector(`[data-field="${name}"] .n-form-item-feedback`)?.textContent?.trim() ?? ''
const slotRows = () => allByTestId('slot-row')

describe('VaultDrawer', () => {
  it('says there is no vault yet before the store’s first backup', async () => {
    await mountVault(empty)
    expect(text('vault-none')).toContain('creates this store’s vault at its first backup')
    expect(byTestId('vault-change-password')).toBeNull()
    expect(byTestId('vault-error')).toBeNull()
  })

  it('shows the vault id and totals, and one key slot per password', async () => {
    const v = (await vaultOf(store.uuid)).body
    await mountVault(store)
    expect(text('vault-id')).toBe(v.vault_id)
    expect(text('vault-info')).toContain(String(v.chunks))
    expect(slotRows()).toHaveLength(v.key_slots.length)
  })

  it('changes the password: a wrong current one is refused on its field, the right one works', async () => {
    await mountVault(store)
    const slotBefore = (await vaultOf(store.uuid)).body.key_slots[0]!.id
    byTestId('vault-change-password')!.click()
    await until(() => byTestId('vault-password-dialog'), 'the dialog')

    // Checked in the form before anything is sent.
    await type('password', FIRST)
    await type('new_password', 'short')
    await save()
    expect(fieldError('new_password')).toContain('At least 8 characters')
    await type('new_password', SECOND)
    await type('confirm', 'not the same')
    await save()
    expect(fieldError('confirm')).toContain('differ')

    // The daemon's refusal, on the field it names.
    await type('password', 'not the vault password')
    await type('confirm', SECOND)
    await save()
    await until(() => fieldError('password'), 'the error on the current password', 30_000)
    expect(fieldError('password')).toMatch(/password/i)
    expect(byTestId('vault-password-dialog')).not.toBeNull()
    expect((await vaultOf(store.uuid)).body.key_slots[0]!.id).toBe(slotBefore)

    await type('password', FIRST)
    await save()
    await until(() => !byTestId('vault-password-dialog'), 'the dialog to close', 30_000)
    const after = (await vaultOf(store.uuid)).body
    expect(after.key_slots).toHaveLength(1)
    expect(after.key_slots[0]!.id).not.toBe(slotBefore)
    // Bulwark keeps the new password: another backup opens the vault with it.
    const task = await backup()
    expect(task.status, task.log).toBe('done')
    expect((await vaultOf(store.uuid)).body.archives).toBe(2)
  })

  it('adds a password with a label, removes it, and shows why the last one stays', async () => {
    await mountVault(store)
    expect(slotRows()).toHaveLength(1)
    byTestId('vault-add-password')!.click()
    await until(() => byTestId('vault-slot-dialog'), 'the dialog')
    await type('password', 'ops team password')
    await type('confirm', 'ops team password')
    await type('label', 'ops team')
    await save()
    await until(() => slotRows().length === 2, 'the new slot in the list', 30_000)
    const slots = (await vaultOf(store.uuid)).body.key_slots
    const ops = slots.find((s) => s.label === 'ops team')
    expect(ops).toBeTruthy()

    byTestId(`slot-remove-${ops!.id}`)!.click()
    await flushPromises()
    await clickButton('Remove')
    await until(() => slotRows().length === 1, 'the slot to go', 30_000)
    expect((await vaultOf(store.uuid)).body.key_slots.map((s) => s.id)).not.toContain(ops!.id)

    // The last slot: the daemon refuses (409), and the view says why.
    const last = slotRows()[0]!.getAttribute('data-id')!
    byTestId(`slot-remove-${last}`)!.click()
    await flushPromises()
    await clickButton('Remove')
    await until(() => byTestId('slot-error'), 'the refusal', 30_000)
    expect(text('slot-error')).toContain('last one')
    expect((await vaultOf(store.uuid)).body.key_slots).toHaveLength(1)
  })

  it('exports the recovery kit as a text file after a warning, and shows it once', async () => {
    const kit = await (
      await fetch(`${d.url}/v1/store/${store.uuid}/vault/recovery-kit`, {
        headers: { authorization: `Bearer ${d.token}` },
      })
    ).text()
    const blobs: Blob[] = []
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blobs.push(b as Blob)
      return 'blob:kit'
    })
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined)
    const downloads: { href: string; download: string }[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      downloads.push({ href: this.getAttribute('href') ?? '', download: this.download })
    })

    await mountVault(store)
    byTestId('vault-export-kit')!.click()
    await flushPromises()
    expect(document.body.textContent).toContain('can read every archive')
    expect(blobs).toHaveLength(0) // nothing fetched before the answer
    await clickButton('Export')
    await until(() => byTestId('recovery-kit-text'), 'the kit')
    expect(text('recovery-kit-text')).toBe(kit.trim())
    expect(downloads).toEqual([{ href: 'blob:kit', download: 'bulwark-recovery-kit-ui-vault.txt' }])
    expect(await blobs[0]!.text()).toBe(kit)
    expect(kit).toContain((await vaultOf(store.uuid)).body.vault_id)

    byTestId('recovery-kit-close')!.click()
    await until(() => !byTestId('recovery-kit-text'), 'the kit to go')
    await until(() => !document.body.textContent!.includes(kit.trim()), 'the kit to leave the page')
  })

  it('runs a garbage collection and links to its task', async () => {
    await mountVault(store)
    byTestId('vault-gc')!.click()
    const link = await until(() => byTestId('toast-task-link'), 'the toast')
    const uuid = /\/tasks\/([0-9a-f-]{36})/.exec(link.getAttribute('href') ?? '')?.[1]
    expect(uuid).toBeTruthy()
    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(task.type).toBe('gc')
    // It ends, and leaves no lock behind for the next test to find.
    expect((await waitForTask(d, uuid!)).status).toBe('done')
  })
})

describe('VaultDrawer locks', () => {
  /** Writes a lock object into the fs store, as another daemon would have. */
  function lockFile(id: string, lock: Partial<Record<string, unknown>>) {
    mkdirSync(join(storeDir, 'locks'), { recursive: true })
    const now = new Date().toISOString()
    const body = {
      format: 'bulwark-lock',
      version: 1,
      id,
      instance: 'not-this-daemon',
      daemon: '/var/lib/bulwark',
      created_at: now,
      refreshed_at: now,
      ...lock,
    }
    writeFileSync(join(storeDir, 'locks', id), `${JSON.stringify(body)}\n`)
  }
  const STALE = 'a'.repeat(32)
  const LIVE = 'b'.repeat(32)
  const locks = async () =>
    (await d.api<StoreLocks>('GET', `/v1/store/${store.uuid}/locks`)).body.locks ?? []
  const row = (id: string) => allByTestId('lock-row').find((r) => r.dataset.id === id)

  it('lists the vault’s locks; Break asks once for a stale lock, twice and with force for a live one', async () => {
    const hourAgo = new Date(Date.now() - 3600_000).toISOString()
    lockFile(STALE, {
      exclusive: true,
      operation: 'gc',
      host: 'gone.example',
      pid: 4242,
      created_at: hourAgo,
      refreshed_at: hourAgo,
      lease_ms: 60_000,
    })
    lockFile(LIVE, {
      exclusive: false,
      operation: 'backup',
      host: 'busy.example',
      pid: 777,
      lease_ms: 3600_000,
    })
    expect((await locks()).map((l) => [l.id, l.stale])).toEqual([
      [STALE, true],
      [LIVE, false],
    ])

    await mountVault(store)
    await until(() => allByTestId('lock-row').length === 2, 'the two locks')
    const stale = row(STALE)!.textContent!
    expect(stale).toContain('gc')
    expect(stale).toContain('exclusive')
    expect(stale).toContain('gone.example')
    expect(stale).toContain('4242')
    expect(stale).toContain('1 h ago')
    expect(stale).toContain('stale')
    const live = row(LIVE)!.textContent!
    expect(live).toContain('backup')
    expect(live).toContain('shared')
    expect(live).toContain('busy.example')
    expect(live).not.toContain('stale')

    const calls: unknown[][] = []
    const client = useConnection().client
    const real = client.breakLock
    client.breakLock = (...args) => {
      calls.push(args)
      return real(...args)
    }

    // A stale lock: one confirmation, no force.
    byTestId(`lock-break-${STALE}`)!.click()
    await flushPromises()
    expect(document.body.textContent).toContain('is stale')
    await clickButton('Break lock')
    await until(() => !row(STALE), 'the stale lock to go')
    expect(calls).toEqual([[store.uuid, STALE, {}]])
    expect((await locks()).map((l) => l.id)).toEqual([LIVE])

    // A live one: a second, stronger warning; "Keep it" keeps it.
    byTestId(`lock-break-${LIVE}`)!.click()
    await flushPromises()
    await clickButton('Continue…')
    expect(document.body.textContent).toContain('This lock is live')
    await clickButton('Keep it')
    await flushPromises() // a break would have been asked for by now
    expect(calls).toHaveLength(1)
    expect((await locks()).map((l) => l.id)).toEqual([LIVE])

    byTestId(`lock-break-${LIVE}`)!.click()
    await flushPromises()
    await clickButton('Continue…')
    await clickButton('Break it anyway')
    await until(() => byTestId('locks-none'), 'no locks left')
    expect(calls[1]).toEqual([store.uuid, LIVE, { force: true }])
    expect(await locks()).toEqual([])
  })
})
