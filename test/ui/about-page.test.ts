// @vitest-environment happy-dom
// The About page against a real daemon: the daemon's version and data
// directory as GET /v1/status gives them; the vault format the status says,
// checked against the version in a real vault.json the daemon just wrote (so
// the two cannot drift apart); "web UI" in a browser and the app's versions
// when the desktop preload is there; each doc of docs/ listed by its title.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import AboutPage from '../../src-renderer/src/pages/AboutPage.vue'
import { ROOT, tempDir, type RunningDaemon } from '../helpers/daemon'
import { allByTestId, startUiDaemon, text, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

let d: RunningDaemon
beforeAll(async () => {
  d = await startUiDaemon({}) // with workers: a backup writes the vault checked
})
afterAll(async () => {
  await d?.stop()
})
afterEach(() => {
  delete (window as { bulwark?: unknown }).bulwark
})
afterEach(unmountPages)

async function mountAbout() {
  await mountPage(d, '/about', [{ path: '/:rest(.*)*', component: AboutPage }])
  await until(() => text('about-daemon') !== '…', 'the daemon version')
}

describe('About page', () => {
  it('shows the daemon, the vault format a real vault is written in, and the data directory', async () => {
    // A vault is written at its store's first backup.
    const vaultDir = tempDir('bulwark-ui-about-store-')
    const uuid = async (path: string, body: unknown) => {
      const res = await d.api('POST', path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.uuid as string
    }
    const job = await uuid('/v1/jobs', {
      name: 'first',
      target: await uuid('/v1/targets', {
        name: 't',
        plugin: 'files',
        endpoint: { path: tempDir() },
      }),
      store: await uuid('/v1/stores', {
        name: 'here',
        plugin: 'fs',
        endpoint: { path: vaultDir, vault_password: 'correct horse battery' },
      }),
      schedule: await uuid('/v1/schedules', { name: 's', when: 'daily at 3am' }),
      retention: await uuid('/v1/retention', { name: 'r', expires: 86400 }),
    })
    const run = await d.api('POST', `/v1/job/${job}/run`, {})
    expect(run.status, JSON.stringify(run.body)).toBe(200)
    const task = run.body.task_uuid as string
    const done = await until(
      async () => {
        const t = (await d.api('GET', `/v1/task/${task}`)).body
        return t.status === 'done' || t.status === 'failed' ? t : null
      },
      'the first backup',
      30_000,
    )
    expect(done.status, done.error).toBe('done')
    const written = JSON.parse(readFileSync(join(vaultDir, 'vault.json'), 'utf8')) as {
      version: number
    }
    const status = (await d.api('GET', '/v1/status')).body

    await mountAbout()
    expect(status.vault_format).toBe(written.version)
    expect(text('about-vault-format')).toBe(`version ${written.version}`)
    expect(text('about-daemon')).toBe(`Bulwark ${status.version}`)
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(text('about-data-dir')).toBe(d.dataDir)
    expect(text('about-app')).toMatch(/^web UI/)
  })

  it("shows the app's versions when the desktop preload is there", async () => {
    ;(window as { bulwark?: unknown }).bulwark = {
      appInfo: async () => ({ app: '1.4.2', electron: '33.2.1', daemon: '0.1.0' }),
    }
    await mountAbout()
    await until(() => text('about-app').startsWith('Bulwark'), 'the app version')
    expect(text('about-app')).toBe('Bulwark 1.4.2 (Electron 33.2.1)')
  })

  it('lists every doc of docs/ by its title', async () => {
    await mountAbout()
    const docs = join(ROOT, 'docs')
    const files = readdirSync(docs).filter((f) => f.endsWith('.md'))
    const items = allByTestId('about-doc')
    expect(items.map((l) => l.dataset.file).sort()).toEqual(files.sort())
    for (const item of items) {
      const heading = /^#\s+(.+)$/m.exec(readFileSync(join(docs, item.dataset.file!), 'utf8'))![1]!
      const title = item.textContent!.replace(`docs/${item.dataset.file}`, '').trim()
      // The page's title starts the doc's own heading (which may go on: ", version 1").
      expect(heading.replace(/`/g, '').replace(/'/g, '’')).toContain(title)
    }
  })
})
