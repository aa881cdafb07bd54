// The Archives page in real Chromium against the real daemon: two directory
// targets backed up once each through the API, then listed and filtered,
// annotated, verified, downloaded and deleted from the page, each checked
// against the API.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
import { runTask, waitForTask } from '../helpers/tasks'

const skip = browserUnavailable()

describe.skipIf(skip !== null)('the Archives page in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let base: string
  /** The archives of the "web-files" and "etc-files" targets. */
  let web: any
  let etc: any

  const archive = async (uuid: string) => (await d.api('GET', `/v1/archive/${uuid}`)).body

  /** Signed in, on the Archives page (through the menu), the table loaded. */
  async function archivesPage(): Promise<Page> {
    const page = await signedIn(b, d)
    await goTo(page, 'Archives')
    await row(page, web.uuid).waitFor()
    return page
  }

  const row = (page: Page, uuid: string) =>
    page.locator(`[data-testid="archive-row"][data-uuid="${uuid}"]`)
  const rowUuids = (page: Page) =>
    page
      .getByTestId('archive-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-uuid')).sort())

  beforeAll(async () => {
    base = tempDir('bulwark-e2e-archives-')
    d = await startDaemon()
    b = await launchBrowser()
    const basics = await jobBasics(d, base)
    async function backedUp(name: string, files: Record<string, string>) {
      const dir = join(base, name)
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(join(dir, file, '..'), { recursive: true })
        writeFileSync(join(dir, file), text)
      }
      const target = await created(d, '/v1/targets', {
        name,
        plugin: 'files',
        endpoint: { path: dir },
      })
      const job = await created(d, '/v1/jobs', { name, target, ...basics })
      const task = await runTask(d, `/v1/job/${job}/run`)
      expect(task.status, task.log).toBe('done')
      return archive(task.archive_uuid)
    }
    web = await backedUp('web-files', {
      'index.html': '<h1>hello</h1>\n',
      'css/site.css': 'body { margin: 0 }\n',
      'img/logo.svg': '<svg/>\n'.repeat(200),
    })
    etc = await backedUp('etc-files', { 'app.conf': 'port = 8080\n', hosts: '127.0.0.1 app\n' })
    expect(web.status).toBe('valid')
    expect(etc.status).toBe('valid')
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
    rmSync(base, { recursive: true, force: true })
  })

  it('lists the archives; a status without a match shows the empty state, cleared restores them; free text finds a target', async () => {
    const page = await archivesPage()
    await row(page, etc.uuid).waitFor()
    expect(await rowUuids(page)).toEqual([web.uuid, etc.uuid].sort())
    await expect(row(page, web.uuid).getByTestId('archive-status').textContent()).resolves.toBe(
      'valid',
    )
    await page.getByTestId('archive-totals').getByText('2 archives').waitFor()

    // No archive is invalid.
    await page.getByTestId('filter-status').click()
    await page.locator('.n-base-select-option').getByText('invalid', { exact: true }).click()
    const empty = page.getByTestId('empty-state')
    await empty.getByText('No archives match these filters').waitFor()
    await page.waitForURL(/[?&]status=invalid/)
    await expect(page.getByTestId('archive-row').count()).resolves.toBe(0)
    await empty.getByRole('button', { name: 'Clear filters' }).click()
    await row(page, web.uuid).waitFor()
    await row(page, etc.uuid).waitFor()
    expect(page.url()).not.toContain('status=')

    // Free text: a target's name.
    const search = page.getByLabel('Search archives')
    await search.fill('web-files')
    await row(page, etc.uuid).waitFor({ state: 'detached' })
    expect(await rowUuids(page)).toEqual([web.uuid])
    await page.waitForURL(/[?&]q=web-files/)
    await search.fill('etc')
    await row(page, web.uuid).waitFor({ state: 'detached' })
    expect(await rowUuids(page)).toEqual([etc.uuid])
    await search.fill('no-such-target')
    await empty.getByText('No archives match these filters').waitFor()
    await search.fill('')
    await row(page, web.uuid).waitFor()
    expect(await rowUuids(page)).toEqual([web.uuid, etc.uuid].sort())
  })

  it('edits an archive’s notes, and the API has them', async () => {
    const page = await archivesPage()
    const notes = 'taken before the 2.0 migration; keep'
    await row(page, web.uuid).getByTestId('notes-button').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('Notes on web-files').waitFor()
    await dialog.getByLabel('Archive notes').fill(notes)
    await dialog.getByTestId('notes-save').click()
    await page.getByText('Notes saved').waitFor()
    await dialog.waitFor({ state: 'hidden' })
    await row(page, web.uuid).getByTestId('notes-button').getByText(notes).waitFor()
    expect((await archive(web.uuid)).notes).toBe(notes)
    expect((await archive(etc.uuid)).notes).toBe('')
    // The notes are searchable.
    await page.getByLabel('Search archives').fill('2.0 migration')
    await row(page, etc.uuid).waitFor({ state: 'detached' })
    expect(await rowUuids(page)).toEqual([web.uuid])
  })

  it('verifies an archive: the toast links to the verify task, which finishes done', async () => {
    const page = await archivesPage()
    await row(page, web.uuid)
      .getByRole('button', { name: 'Verify: read it back and check every chunk' })
      .click()
    const link = page.getByTestId('toast-task-link')
    await link.waitFor()
    const uuid = /#\/tasks\/([0-9a-f-]{36})$/.exec((await link.getAttribute('href')) ?? '')?.[1]
    expect(uuid).toBeTruthy()
    await link.click()
    await page.waitForURL(`**/#/tasks/${uuid}`)
    await expect(page.getByTestId('task-type').textContent()).resolves.toBe('Verify')
    await page.locator('[data-testid="task-status"][data-status="done"]').waitFor()
    await page.getByTestId('task-outcome').getByText('Verified').waitFor()
    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(task.type).toBe('verify')
    expect(task.status, task.log).toBe('done')
    expect(task.archive_uuid).toBe(web.uuid)
    expect((await archive(web.uuid)).status).toBe('valid')
  })

  it('downloads an archive: the tar of the directory, as long as the API says', async () => {
    const page = await archivesPage()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row(page, web.uuid).getByRole('button', { name: 'Download', exact: true }).click(),
    ])
    expect(download.suggestedFilename()).toMatch(/^web-files-\d{8}-\d{6}\.tar$/)
    const path = await download.path()
    expect(await download.failure()).toBeNull()
    const bytes = readFileSync(path)
    // A directory archive is a tree; its download is a tar of its entries, of
    // the length the API announces (more than the files' own bytes).
    const api = await fetch(`${d.url}/v1/archive/${web.uuid}/download`, {
      headers: { authorization: `Bearer ${d.token}` },
    })
    const announced = Number(api.headers.get('content-length'))
    await api.body?.cancel()
    expect(announced).toBeGreaterThan(web.size)
    expect(bytes.length).toBe(announced)
    const listed = execFileSync('tar', ['-tf', path], { encoding: 'utf8' })
    for (const file of ['index.html', 'css/site.css', 'img/logo.svg'])
      expect(listed).toMatch(new RegExp(`(^|/)${file.replace('.', '\\.')}$`, 'm'))
  })

  it('deletes an archive after asking: it is purged, the API agrees, the other stays', async () => {
    const page = await archivesPage()
    await row(page, etc.uuid).getByRole('button', { name: 'Delete', exact: true }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('Delete the archive etc-files').waitFor()
    // Keeping it first changes nothing.
    await dialog.getByRole('button', { name: 'Keep it' }).click()
    await dialog.waitFor({ state: 'hidden' })
    expect((await archive(etc.uuid)).status).toBe('valid')

    await row(page, etc.uuid).getByRole('button', { name: 'Delete', exact: true }).click()
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    const link = page.getByTestId('toast-task-link')
    await link.waitFor()
    const purge = /#\/tasks\/([0-9a-f-]{36})$/.exec((await link.getAttribute('href')) ?? '')?.[1]
    expect(purge).toBeTruthy()

    // DELETE expires the archive and queues a purge; the row stays, as purged.
    const gone = page.locator(
      `[data-testid="archive-row"][data-uuid="${etc.uuid}"][data-status="purged"]`,
    )
    await gone.waitFor()
    await expect(gone.getByTestId('archive-status').textContent()).resolves.toBe('purged')
    for (const name of ['Delete', 'Download'])
      await expect(gone.getByRole('button', { name, exact: true }).isDisabled()).resolves.toBe(true)
    await expect(gone.getByTestId('restore-button').isDisabled()).resolves.toBe(true)

    const task = await waitForTask(d, purge!)
    expect(task.type).toBe('purge')
    expect(task.status, task.log).toBe('done')
    expect((await archive(etc.uuid)).status).toBe('purged')
    expect((await archive(web.uuid)).status).toBe('valid')
    const valid = (await d.api('GET', '/v1/archives?status=valid')).body
    expect(valid.map((a: any) => a.uuid)).toEqual([web.uuid])
    await expect(row(page, web.uuid).getAttribute('data-status')).resolves.toBe('valid')
  })
})
