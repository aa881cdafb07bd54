// A newcomer's first hour in real Chromium against a fresh daemon: sign in
// with the printed link, create a store and a target by clicks (the targets
// list says where the target points and that nothing backs it up yet), a job,
// run it (its toast says queued, then done), follow the toast to the task, open
// the archive's page from the task, and restore from there into a new target
// at the directory the dialog suggests; the restored files equal the source.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  browserUnavailable,
  created,
  goTo,
  launchBrowser,
  type BrowserSession,
} from '../helpers/browser'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

const skip = browserUnavailable()

/** Every file under dir, relative path → contents. */
function tree(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) tree(p, base, out)
    else out.set(p.slice(base.length + 1), readFileSync(p, 'utf8'))
  }
  return out
}

/** Picks an option of a Naive UI select by typing into its filter. */
async function choose(page: Page, testid: string, text: string) {
  await page.getByTestId(testid).click()
  await page.keyboard.type(text)
  await page.keyboard.press('Enter')
}

describe.skipIf(skip !== null)('a newcomer’s journey, by clicks', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let page: Page
  const source = join(tempDir('bulwark-e2e-newcomer-'), 'team-files')
  const storeDir = join(tempDir('bulwark-e2e-newcomer-store-'), 'vault')

  beforeAll(async () => {
    mkdirSync(join(source, 'docs'), { recursive: true })
    writeFileSync(join(source, 'README.txt'), 'what a newcomer backs up first\n')
    writeFileSync(join(source, 'docs', 'notes.md'), '# Notes\n'.repeat(3000))
    d = await startDaemon()
    b = await launchBrowser()
    page = await b.newPage()
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
  })

  it('signs in with the printed link', async () => {
    await page.goto(d.signInUrl)
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor()
  })

  it('creates a store and a target, the target listed with where it points', async () => {
    await goTo(page, 'Stores')
    await page.getByTestId('new-resource').click()
    await choose(page, 'plugin-select', 'Local directory')
    await page.getByLabel('Name', { exact: true }).fill('local')
    await page.getByLabel('Directory', { exact: true }).fill(storeDir)
    await page.getByLabel('Vault password', { exact: true }).fill('correct horse battery staple')
    await page.getByTestId('editor-save').click()
    await page.getByRole('cell', { name: 'local', exact: true }).waitFor()

    await goTo(page, 'Targets')
    await page.getByTestId('new-resource').click()
    await choose(page, 'plugin-select', 'Directory')
    await page.getByLabel('Name', { exact: true }).fill('team-files')
    await page.getByLabel('Directory', { exact: true }).fill(source)
    await page.getByTestId('editor-save').click()
    const row = page.locator('[data-testid="target-list-row"][data-name="team-files"]')
    await row.getByTestId('target-where').getByText(`directory ${source}`).waitFor()
    await row.getByTestId('target-last-backup').getByText('never (no job backs it up)').waitFor()
  })

  it('creates a job, runs it, and follows the toast to the finished task', async () => {
    // The schedule and retention editors have their own journey (flow.test.ts).
    await created(d, '/v1/schedules', { name: 'nightly', when: 'daily at 2:30am' })
    await created(d, '/v1/retention', { name: 'two-weeks', expires: 14 * 86400 })
    await goTo(page, 'Jobs')
    await page.getByTestId('new-job').click()
    await page.getByLabel('Name', { exact: true }).fill('files-nightly')
    await page.getByTestId('editor-save').click()
    await page.getByTestId('job-row-files-nightly').waitFor()
    await page.getByTestId('job-run-files-nightly').click()
    // The toast says the backup is queued, then, in place, that it is done.
    const ended = page.getByTestId('toast-task-ended')
    await ended.getByText('Backup of files-nightly: done.').waitFor({ timeout: 30_000 })
    const link = ended.getByTestId('toast-task-link')
    const href = (await link.getAttribute('href')) ?? ''
    await link.click()
    await page.waitForURL(`**/${href}`)
    await page.locator('[data-testid="task-status"][data-status="done"]').waitFor()
    // Following it closed it.
    await page.getByTestId('toast-task-link').waitFor({ state: 'detached' })
  })

  it('opens the archive’s page from the task', async () => {
    await page.getByTestId('task-archive-link').click()
    await page.waitForURL(/#\/archives\/[0-9a-f-]{36}$/)
    await page.getByTestId('archive-details').waitFor()
    expect(await page.getByTestId('archive-target').innerText()).toBe('team-files (files)')
    await page.getByTestId('archive-where').getByText(`directory ${source}`).waitFor()
    expect(await page.getByTestId('archive-page-status').innerText()).toBe('valid')
    expect(Number(await page.getByTestId('archive-chunks').innerText())).toBeGreaterThan(0)
    await page.getByTestId('archive-task-link').waitFor()
  })

  it('restores from there into a new target at the suggested directory', async () => {
    await page.getByTestId('archive-restore').click()
    await page.getByTestId('restore-dialog').waitFor()
    await page.getByTestId('restore-new-target').click()
    const dirInput = page.getByLabel('Directory', { exact: true })
    await expect.poll(() => dirInput.inputValue()).toMatch(/-restored-\d{8}-\d{4}$/)
    const suggested = await dirInput.inputValue()
    expect(suggested.startsWith(`${source}-restored-`)).toBe(true)
    // Accept the defaults.
    await page.getByTestId('editor-save').click()
    const warning = page.getByTestId('restore-warning')
    await warning.getByText('Restores into a new target').waitFor()
    expect(await warning.innerText()).toContain(
      `Restores into directory ${suggested}, which must be empty or absent`,
    )
    await page.getByTestId('restore-confirm').click()
    await page.getByRole('heading', { name: 'Task', level: 1 }).waitFor()
    await page.locator('[data-testid="task-status"][data-status="done"]').waitFor({
      timeout: 30_000,
    })
    expect(tree(suggested)).toEqual(tree(source))
  })

  it('lists the target’s last backup, linked to the archive', async () => {
    await goTo(page, 'Targets')
    const row = page.locator('[data-testid="target-list-row"][data-name="team-files"]')
    await row.locator('a[data-testid="target-last-backup"]').click()
    await page.waitForURL(/#\/archives\/[0-9a-f-]{36}$/)
    await page.getByTestId('archive-details').waitFor()
  })
})
