// @vitest-environment happy-dom
// The target/store form against a real daemon: fields built from the plugin's
// schema, secrets never shown back, the daemon's errors on the field they name.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PluginInfo as Plugin, Store } from '../../src-daemon/contract'
import EndpointEditor from '../../src-renderer/src/components/EndpointEditor.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { input, mountEditor, save, startUiDaemon, type, unmountAll } from '../helpers/ui'

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

const mountStoreEditor = (props: { mode: 'create' | 'edit'; existing?: Store }) =>
  mountEditor(d, EndpointEditor, {
    kind: 'store',
    plugins: plugins.filter((p) => p.name === 'fs'),
    mode: props.mode,
    existing: props.existing ?? null,
  })

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
    await save()
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
    await save()
    expect(saved).toHaveLength(0)
    expect(fieldError('path')).toContain('must be an absolute path')
  })

  it('edits a store without ever putting its stored password in the form', async () => {
    const dir = tempDir()
    const created = await d.api('POST', '/v1/stores', {
      name: 'edit-me',
      plugin: 'fs',
      endpoint: { path: dir, vault_password: 'a secret password' },
    })
    const existing = (await d.api<Store>('GET', `/v1/store/${created.body.uuid}`)).body
    const { saved } = await mountStoreEditor({ mode: 'edit', existing })
    expect(input('path').value).toBe(dir)
    expect(input('vault_password').value).toBe('')
    expect(document.body.innerHTML).not.toContain('a secret password')
    await type('summary', 'renamed by the UI')
    await save()
    expect(saved).toEqual([existing.uuid])
    const after = (await d.api<Store>('GET', `/v1/store/${existing.uuid}`)).body
    expect(after.summary).toBe('renamed by the UI')
  })
})
