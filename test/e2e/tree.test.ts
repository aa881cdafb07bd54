// Issue 14's story in real Chromium against the real daemon, by clicks: a
// home-like directory backed up with "Run now", a file changed, backed up
// again; the newer archive's comparison with the older names the change;
// then yesterday's version of that one file is restored into place
// (overwriting) from the older archive's file browser, and its bytes are
// the old ones again while the rest of the directory is untouched.
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
import { waitForTask } from '../helpers/tasks'

const skip = browserUnavailable()

describe.skipIf(skip !== null)('a tree archive in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let base: string
  let home: string
  const report = () => join(home, 'Documents', 'report.txt')
  const v1 = 'Quarterly report, first draft.\n'.repeat(200)
  const v2 = 'Quarterly report, rewritten by mistake.\n'.repeat(150)
  const photo = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 31) % 256))

  beforeAll(async () => {
    base = tempDir('bulwark-e2e-tree-')
    home = join(base, 'ann')
    mkdirSync(join(home, 'Documents'), { recursive: true })
    mkdirSync(join(home, 'Pictures'))
    mkdirSync(join(home, '.config', 'app'), { recursive: true })
    writeFileSync(report(), v1)
    writeFileSync(join(home, 'Documents', 'todo.md'), '- back up\n')
    writeFileSync(join(home, 'Pictures', 'cat.jpg'), photo)
    writeFileSync(join(home, '.config', 'app', 'settings.json'), '{"theme":"dark"}\n')
    d = await startDaemon()
    b = await launchBrowser()
    const basics = await jobBasics(d, base)
    const target = await created(d, '/v1/targets', {
      name: 'ann-home',
      plugin: 'files',
      endpoint: { path: home },
    })
    await created(d, '/v1/jobs', { name: 'ann-home-nightly', target, ...basics })
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
    rmSync(base, { recursive: true, force: true })
  })

  /** "Run now" on the Jobs page; the backup task's uuid, once its toast says it is done. */
  async function runNow(page: Page): Promise<string> {
    // The previous run's toast goes by itself (6 s after "done"): then the one toast is this run's.
    await expect
      .poll(() => page.getByTestId('toast-task-link').count(), { timeout: 15_000 })
      .toBe(0)
    await goTo(page, 'Jobs')
    await page.getByTestId('job-run-ann-home-nightly').click()
    const ended = page.getByTestId('toast-task-ended')
    await ended.getByText('Backup of ann-home-nightly: done.').waitFor({ timeout: 60_000 })
    const href = (await ended.getByTestId('toast-task-link').getAttribute('href')) ?? ''
    const uuid = /tasks\/([0-9a-f-]{36})$/.exec(href)?.[1]
    expect(uuid).toBeTruthy()
    return uuid!
  }

  it('backs up, changes a file, backs up again, sees the change, and restores yesterday’s version into place', async () => {
    const page = await signedIn(b, d)
    const first = await waitForTask(d, await runNow(page))
    expect(first.status, first.log).toBe('done')
    writeFileSync(report(), v2)
    const second = await waitForTask(d, await runNow(page))
    expect(second.status, second.log).toBe('done')

    // The newer archive, from its backup task's page.
    await page.goto(`${d.url}/#/tasks/${second.uuid}`)
    await page.getByTestId('task-archive-link').click()
    await page.waitForURL(`**/#/archives/${second.archive_uuid}`)
    await page.getByTestId('tree-browser').waitFor()
    await page.getByTestId('tree-row-Documents').waitFor()

    // Compared with the older one: report.txt modified, nothing else.
    await page.getByTestId('tree-diff-other').click()
    await page.locator('.n-base-select-option').getByText('(older)').click()
    const modified = page.getByTestId('tree-diff-modified-Documents/report.txt')
    await modified.waitFor()
    expect(await page.getByTestId('tree-diff-modified-count').innerText()).toBe('(1)')
    expect(await page.getByTestId('tree-diff-added-count').innerText()).toBe('(0)')
    expect(await page.getByTestId('tree-diff-removed-count').innerText()).toBe('(0)')
    // 6200 bytes then 6000: 200 fewer.
    expect(await modified.innerText()).toContain('−200 B')
    await modified.getByRole('button').click()
    await page.getByTestId('tree-row-Documents/report.txt').waitFor()

    // Yesterday's version: the older archive, from the Archives page.
    await goTo(page, 'Archives')
    await page
      .locator(`[data-testid="archive-row"][data-uuid="${first.archive_uuid}"] td`)
      .nth(2)
      .click()
    await page.waitForURL(`**/#/archives/${first.archive_uuid}`)
    await page.getByTestId('tree-open-Documents').click()
    await page.getByLabel('Select Documents/report.txt').click()
    expect(await page.getByTestId('tree-selection-count').innerText()).toBe('1 selected')
    await page.getByTestId('tree-restore-selected').click()
    const dialog = page.getByTestId('tree-restore-dialog')
    await dialog.waitFor()
    // Into the target's own directory, the default; overwriting, as chosen.
    await dialog.getByText(`The target’s own directory (ann-home), ${home}`).waitFor()
    await dialog.getByText('Overwrite existing files').click()
    await dialog
      .getByTestId('tree-restore-summary')
      .getByText(`Restores Documents/report.txt into ${home}; existing files are overwritten.`)
      .waitFor()
    await dialog.getByTestId('tree-restore-confirm').click()
    await page
      .getByTestId('toast-task-ended')
      .getByText(/^Restoring Documents\/report\.txt .*: done\./)
      .waitFor({ timeout: 60_000 })

    expect(readFileSync(report(), 'utf8')).toBe(v1)
    expect(readFileSync(join(home, 'Documents', 'todo.md'), 'utf8')).toBe('- back up\n')
    expect(readFileSync(join(home, 'Pictures', 'cat.jpg')).equals(photo)).toBe(true)
  }, 90_000)
})
