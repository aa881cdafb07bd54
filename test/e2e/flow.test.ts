// The whole first-time path in real Chromium against the real daemon, by
// clicks alone: sign in with the printed link, create a store, a target, a
// schedule (with its live preview), a retention policy and a job, run it,
// watch the task finish, then restore the archive into a new target and
// compare the files. With BULWARK_SCREENSHOTS=<dir> it also saves the
// screenshots the README shows (light and dark, 1280x800 and 800 wide).
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserUnavailable, goTo, launchBrowser, type BrowserSession } from '../helpers/browser'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

const skip = browserUnavailable()
const SHOTS = process.env.BULWARK_SCREENSHOTS

/** Every file under dir, relative path → contents. */
function tree(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) tree(p, base, out)
    else out.set(p.slice(base.length + 1), readFileSync(p, 'utf8'))
  }
  return out
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return
  mkdirSync(SHOTS, { recursive: true })
  // Toasts from earlier steps would cover the page; transitions settle.
  const hide = await page.addStyleTag({
    content: '.n-message-container, .n-notification-container { display: none !important }',
  })
  await page.waitForTimeout(400)
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
  await hide.evaluate((el) => (el as Element).remove())
}

/** Picks an option of a Naive UI select by typing into its filter. */
async function choose(page: Page, testid: string, text: string) {
  await page.getByTestId(testid).click()
  await page.keyboard.type(text)
  await page.keyboard.press('Enter')
}

describe.skipIf(skip !== null)('a first backup and restore, by clicks alone', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let page: Page
  const source = tempDir('bulwark-e2e-src-')
  const storeDir = join(tempDir('bulwark-e2e-store-'), 'vault')
  const restoreDir = join(tempDir('bulwark-e2e-restore-'), 'restored')

  beforeAll(async () => {
    mkdirSync(join(source, 'docs', 'deep'), { recursive: true })
    writeFileSync(join(source, 'README.txt'), 'the files a small team cannot lose\n')
    writeFileSync(join(source, 'docs', 'plan.md'), '# Plan\n'.repeat(2000))
    writeFileSync(join(source, 'docs', 'deep', 'data.csv'), 'id,value\n1,42\n2,43\n')
    d = await startDaemon()
    b = await launchBrowser()
    page = await b.newPage()
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
  })

  it('signs in from the printed link and shows what to do first', async () => {
    await page.goto(d.signInUrl)
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor()
    await page.getByTestId('getting-started').waitFor()
    await shot(page, 'getting-started')
  })

  it('creates a local store with a vault password', async () => {
    await goTo(page, 'Stores')
    await page.getByTestId('empty-state').waitFor()
    await page.getByTestId('new-resource').click()
    await choose(page, 'plugin-select', 'Local directory')
    await page.getByLabel('Name', { exact: true }).fill('local')
    await page.getByLabel('Directory', { exact: true }).fill(storeDir)
    await page.getByLabel('Vault password', { exact: true }).fill('correct horse battery staple')
    await page.getByTestId('editor-save').click()
    await page.getByRole('cell', { name: 'local', exact: true }).waitFor()
    const stores = (await d.api('GET', '/v1/stores')).body
    expect(stores).toHaveLength(1)
    expect(JSON.parse(stores[0].endpoint)).toMatchObject({ path: storeDir })
  })

  it('creates a directory target and tests its connection', async () => {
    await goTo(page, 'Targets')
    await page.getByTestId('new-resource').click()
    await choose(page, 'plugin-select', 'Directory')
    await page.getByLabel('Name', { exact: true }).fill('team-files')
    await page.getByLabel('Directory', { exact: true }).fill(source)
    await page.getByTestId('editor-save').click()
    const cell = page.getByRole('cell', { name: 'team-files', exact: true })
    await cell.waitFor()
    // The row's Test (the editor, still closing, has a Test button of its own).
    await page.getByRole('row').filter({ has: cell }).getByRole('button', { name: 'Test' }).click()
    await page.getByText('team-files: connection works').waitFor()
    await page.getByRole('button', { name: 'OK' }).click()
    await shot(page, 'targets')
  })

  it('creates a schedule, with a live preview of its next runs', async () => {
    await goTo(page, 'Schedules')
    await page.getByTestId('new-schedule').click()
    await page.getByLabel('Name', { exact: true }).fill('nightly')
    await page.getByLabel('When', { exact: true }).fill('every day at 2:30am')
    await page.getByTestId('schedule-preview').getByText('02:30').first().waitFor()
    await shot(page, 'schedule-editor')
    // A typo gets the daemon's message and a valid example, not a silent failure.
    await page.getByLabel('When', { exact: true }).fill('every blue moon')
    await page.getByTestId('schedule-when-error').waitFor()
    await page.getByLabel('When', { exact: true }).fill('daily at 2:30am')
    await page.getByTestId('schedule-preview').getByText('02:30').first().waitFor()
    await page.getByTestId('editor-save').click()
    await page.getByTestId('schedule-row-nightly').waitFor()
    const [schedule] = (await d.api('GET', '/v1/schedules')).body
    expect(schedule).toMatchObject({ name: 'nightly', when: 'daily at 2:30am' })
  })

  it('creates a retention policy', async () => {
    await goTo(page, 'Retention')
    await page.getByTestId('new-retention').click()
    await page.getByLabel('Name', { exact: true }).fill('two-weeks')
    await page.getByLabel('How many', { exact: true }).fill('14')
    await page.getByTestId('editor-save').click()
    await page.getByTestId('retention-row-two-weeks').waitFor()
    const [policy] = (await d.api('GET', '/v1/retention')).body
    expect(policy).toMatchObject({ name: 'two-weeks', expires: 14 * 86400 })
  })

  it('creates a job from them, runs it now and follows the task to the end', async () => {
    await goTo(page, 'Jobs')
    await page.getByTestId('new-job').click()
    await page.getByLabel('Name', { exact: true }).fill('files-nightly')
    // One target, store, schedule and policy: each is already chosen.
    await page.getByTestId('editor-save').click()
    await page.getByTestId('job-row-files-nightly').waitFor()
    const [job] = (await d.api('GET', '/v1/jobs')).body
    expect(job).toMatchObject({
      name: 'files-nightly',
      target_name: 'team-files',
      store_name: 'local',
      schedule_name: 'nightly',
      retention_name: 'two-weeks',
      paused: false,
    })
    await page.getByTestId('job-run-files-nightly').click()
    await page.getByText('Follow the task').first().click()
    await page.getByRole('heading', { name: 'Task', level: 1 }).waitFor()
    await page.locator('[data-testid="task-status"][data-status="done"]').waitFor({
      timeout: 30_000,
    })
    await expect.poll(() => page.getByTestId('task-log').innerText()).toContain('archive')
    await shot(page, 'task')
    const archives = (await d.api('GET', '/v1/archives')).body
    expect(archives).toHaveLength(1)
    expect(archives[0]).toMatchObject({ status: 'valid', target_name: 'team-files' })
  })

  it('shows the job healthy and the backup on the dashboard, live', async () => {
    await goTo(page, 'Dashboard')
    await page.locator('[data-testid="job-row"][data-job="files-nightly"]').waitFor()
    await page.getByTestId('archive-chart').waitFor()
    await shot(page, 'dashboard')
    await goTo(page, 'Jobs')
    await shot(page, 'jobs')
  })

  it('restores the archive into a new directory, named before it is overwritten', async () => {
    await goTo(page, 'Archives')
    await page.getByTestId('archive-row').first().waitFor()
    await shot(page, 'archives')
    await page.getByTestId('restore-button').first().click()
    await page.getByTestId('restore-dialog').waitFor()
    // Somewhere new: a copy of the archive's own target, pointed at a new directory.
    await page.getByTestId('restore-new-target').click()
    // It suggests a fresh directory beside the original, never the original itself.
    await expect
      .poll(() => page.getByLabel('Directory', { exact: true }).inputValue())
      .toMatch(new RegExp(`^${source}-restored-\\d{8}-\\d{4}$`))
    await page.getByLabel('Name', { exact: true }).fill('team-files-restored')
    await page.getByLabel('Directory', { exact: true }).fill(restoreDir)
    await page.getByTestId('editor-save').click()
    const warning = page.getByTestId('restore-warning')
    // The new target is chosen, and the warning names it and its directory.
    await expect.poll(() => warning.innerText()).toContain(restoreDir)
    expect(await warning.innerText()).toContain('team-files-restored')
    await shot(page, 'restore')
    await page.getByTestId('restore-confirm').click()
    await page.getByRole('heading', { name: 'Task', level: 1 }).waitFor()
    await page.locator('[data-testid="task-status"][data-status="done"]').waitFor({
      timeout: 30_000,
    })
    expect(tree(restoreDir)).toEqual(tree(source))
  })

  it('reads well in the dark and at 800 pixels wide', async () => {
    if (!SHOTS) return
    const dark = await b.newPage({ dark: true })
    await dark.goto(d.url)
    await dark.evaluate((token) => localStorage.setItem('bulwark.token', token), d.token)
    await dark.reload()
    await dark.getByTestId('job-health').waitFor()
    await shot(dark, 'dashboard-dark')
    const narrow = await b.newPage({ width: 800, height: 900 })
    await narrow.goto(d.url)
    await narrow.evaluate((token) => localStorage.setItem('bulwark.token', token), d.token)
    await narrow.goto(`${d.url}/#/archives`)
    await narrow.reload()
    await narrow.getByTestId('archive-row').first().waitFor()
    await shot(narrow, 'archives-800')
  })
})
