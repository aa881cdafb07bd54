// @vitest-environment happy-dom
// The target/store form against a real daemon: fields built from the plugin's
// schema, secrets never shown back, the daemon's errors on the field they name.
// A store's vault password is typed only when the store is created; editing
// one leads to its Vault view instead.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PluginInfo as Plugin, Store } from '../../src-daemon/contract'
import EndpointEditor from '../../src-renderer/src/components/EndpointEditor.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import {
  byTestId,
  input,
  mountEditor,
  save,
  startUiDaemon,
  type,
  unmountAll,
  until,
} from '../helpers/ui'

let d: RunningDaemon
let plugins: Plugin[]
beforeAll(async () => {
  d = await startUiDaemon()
  plugins = (await d.api<Plugin[]>('GET', '/v1/plugins?kind=store')).body
})
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

const mountStoreEditor = (props: {
  mode: 'create' | 'edit'
  existing?: Store
  onVault?: (s: Store) => void
}) =>
  mountEditor(d, EndpointEditor, {
    kind: 'store',
    plugins: plugins.filter((p) => p.name === 'fs'),
    ...props,
    existing: props.existing ?? null,
  })

/** Saves, then waits (the daemon's time, not a fixed one) for its answer to show. */
async function saveUntil(check: () => unknown, what: string) {
  await save()
  await until(check, what, 30_000)
}

const fieldError = (name: string) =>
  document.querySelector(`[data-field="${name}"] .n-form-item-feedback`)?.textContent ?? ''

describe('EndpointEditor', () => {
  it('creates an fs store from the plugin fields, the password kept write-only', async () => {
    const { saved } = await mountStoreEditor({ mode: 'create' })
    // With one plugin offered it is chosen, and its fields appear.
    const fs = plugins.find((p) => p.name === 'fs')!
    for (const f of fs.fields.filter((f) => f.type === 'string')) expect(input(f.name)).toBeTruthy()
    await type('name', 'ui-store')
    const dir = tempDir()
    await type('path', dir)
    await type('vault_password', 'correct horse battery')
    await saveUntil(() => saved.length, 'the store to be created')
    expect(saved).toHaveLength(1)
    const stored = (await d.api<Store>('GET', `/v1/store/${saved[0]}`)).body
    expect(stored.name).toBe('ui-store')
    expect(JSON.parse(stored.endpoint)).toMatchObject({ path: dir, vault_password: '<redacted>' })
  })

  it('shows required fields before sending, and the daemon’s error on its field', async () => {
    const { saved } = await mountStoreEditor({ mode: 'create' })
    await type('name', 'bad-store')
    await save()
    expect(fieldError('path')).toContain('is required')
    await type('path', 'relative/dir')
    await type('vault_password', 'correct horse battery')
    await saveUntil(() => fieldError('path').includes('absolute'), 'the daemon’s error')
    expect(saved).toHaveLength(0)
    expect(fieldError('path')).toContain('must be an absolute path')
  })

  it('tests the endpoint before Create: the answer shown, nothing saved', async () => {
    const { saved } = await mountStoreEditor({ mode: 'create' })
    const result = () => byTestId('editor-test-result')
    await type('path', 'relative/dir')
    byTestId('editor-test')!.click()
    await until(() => fieldError('path').includes('absolute'), 'the daemon’s error on the field')
    expect(result()).toBeNull()
    await type('path', tempDir())
    byTestId('editor-test')!.click()
    await until(() => result(), 'the test’s answer', 30_000)
    expect(result()!.dataset.ok).toBe('true')
    expect(result()!.textContent).toContain('Connection works')
    expect(fieldError('path')).not.toContain('absolute')
    // Changing the form clears an answer that no longer applies.
    await type('path', tempDir())
    expect(result()).toBeNull()
    expect(saved).toHaveLength(0)
  })

  it('offers no Test when editing', async () => {
    const created = await d.api('POST', '/v1/stores', {
      name: 'no-test-on-edit',
      plugin: 'fs',
      endpoint: { path: tempDir() },
    })
    const existing = (await d.api<Store>('GET', `/v1/store/${created.body.uuid}`)).body
    await mountStoreEditor({ mode: 'edit', existing })
    expect(byTestId('editor-save')).toBeTruthy()
    expect(byTestId('editor-test')).toBeNull()
  })

  it('offers the vault password on create: optional, at least 8 characters', async () => {
    const { saved } = await mountStoreEditor({ mode: 'create' })
    expect(input('vault_password')).toBeTruthy()
    expect(fieldError('vault_password')).toContain('Leave empty and Bulwark generates one')
    expect(fieldError('vault_password')).toContain('export the recovery kit')
    expect(
      document.querySelector('[data-field="vault_password"] .n-form-item-label')?.textContent,
    ).not.toContain('*')
    await type('name', 'short-password')
    await type('path', tempDir())
    await type('vault_password', 'seven77')
    await save()
    expect(saved).toHaveLength(0)
    expect(fieldError('vault_password')).toContain('At least 8 characters')
    // Left empty, the store is created, and Bulwark makes the password at its first backup.
    await type('vault_password', '')
    await saveUntil(() => saved.length, 'the store to be created')
    expect(saved).toHaveLength(1)
    const stored = (await d.api<Store>('GET', `/v1/store/${saved[0]}`)).body
    expect(JSON.parse(stored.endpoint).vault_password).toBeUndefined()
  })

  it('edits a store without a vault password field, and links to its vault instead', async () => {
    const dir = tempDir()
    const created = await d.api('POST', '/v1/stores', {
      name: 'edit-me',
      plugin: 'fs',
      endpoint: { path: dir, vault_password: 'a secret password' },
    })
    const existing = (await d.api<Store>('GET', `/v1/store/${created.body.uuid}`)).body
    const vaults: Store[] = []
    const { saved } = await mountStoreEditor({
      mode: 'edit',
      existing,
      onVault: (s) => vaults.push(s),
    })
    expect(input('path').value).toBe(dir)
    expect(input('vault_password')).toBeNull()
    expect(document.querySelector('[data-field="vault_password"]')).toBeNull()
    expect(document.body.innerHTML).not.toContain('a secret password')
    byTestId('editor-vault')!.click()
    expect(vaults.map((s) => s.uuid)).toEqual([existing.uuid])
    await type('summary', 'renamed by the UI')
    await saveUntil(() => saved.length, 'the store to be saved')
    expect(saved).toEqual([existing.uuid])
    const after = (await d.api<Store>('GET', `/v1/store/${existing.uuid}`)).body
    expect(after.summary).toBe('renamed by the UI')
  })
})
