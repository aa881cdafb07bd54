// A store's vault password changed from the Stores page in real Chromium
// against the real daemon: the store backed up once through the API, its
// Vault view opened from its row, a wrong current password refused on its
// field, the right one accepted; the daemon then backs up with the new one.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VaultInfo } from '../../src-daemon/contract'
import {
  browserUnavailable,
  created,
  goTo,
  jobBasics,
  launchBrowser,
  signedIn,
  type BrowserSession,
} from '../helpers/browser'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'

const skip = browserUnavailable()

/** The password jobBasics gives its store. */
const CURRENT = 'correct horse battery'
const NEW = 'a brand new vault password'

describe.skipIf(skip !== null)('the Vault view in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let base: string
  let store: string
  let job: string

  const vault = async () => (await d.api<VaultInfo>('GET', `/v1/store/${store}/vault`)).body

  beforeAll(async () => {
    base = tempDir('bulwark-e2e-vault-')
    d = await startDaemon()
    b = await launchBrowser()
    const basics = await jobBasics(d, base)
    store = basics.store
    const source = join(base, 'source')
    mkdirSync(source)
    writeFileSync(join(source, 'data.txt'), 'a vault of my own\n'.repeat(500))
    const target = await created(d, '/v1/targets', {
      name: 'data',
      plugin: 'files',
      endpoint: { path: source },
    })
    job = await created(d, '/v1/jobs', { name: 'data', target, ...basics })
    const task = await runTask(d, `/v1/job/${job}/run`)
    expect(task.status, task.log).toBe('done')
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
    rmSync(base, { recursive: true, force: true })
  })

  it(
    'changes the vault password: a wrong current one is refused on its field, the right one works',
    { timeout: 120_000 },
    async () => {
      const page = await signedIn(b, d)
      await goTo(page, 'Stores')
      const before = await vault()
      await page.getByTestId('store-vault-local').click()
      await expect(page.getByTestId('vault-id').textContent()).resolves.toBe(before.vault_id)

      await page.getByTestId('vault-change-password').click()
      const dialog = page.getByTestId('vault-password-dialog')
      await dialog.getByLabel('Current password').fill('not the vault password')
      await dialog.getByLabel('New password', { exact: true }).fill(NEW)
      await dialog.getByLabel('New password again').fill(NEW)
      await dialog.getByRole('button', { name: 'Change password' }).click()
      const currentFeedback = dialog.locator('[data-field="password"] .n-form-item-feedback')
      await currentFeedback.getByText(/password/i).waitFor({ timeout: 30_000 })
      expect((await vault()).key_slots.map((s) => s.id)).toEqual(before.key_slots.map((s) => s.id))

      await dialog.getByLabel('Current password').fill(CURRENT)
      await dialog.getByRole('button', { name: 'Change password' }).click()
      await page.getByText('Changed the vault password of local').waitFor({ timeout: 30_000 })
      await dialog.waitFor({ state: 'hidden' })

      const after = await vault()
      expect(after.vault_id).toBe(before.vault_id)
      expect(after.key_slots).toHaveLength(1)
      expect(after.key_slots[0]!.id).not.toBe(before.key_slots[0]!.id)
      // The old password no longer opens the vault; the daemon backs up with the new one.
      const old = await d.api('POST', `/v1/store/${store}/vault/password`, {
        password: CURRENT,
        new_password: 'yet another password',
      })
      expect(old.status, JSON.stringify(old.body)).toBe(400)
      expect(old.body.error.field).toBe('password')
      const again = await runTask(d, `/v1/job/${job}/run`)
      expect(again.status, again.log).toBe('done')
      await page.locator('[data-testid="vault-archives"]', { hasText: '2' }).waitFor()
    },
  )
})
