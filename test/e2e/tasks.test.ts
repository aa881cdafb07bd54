// Tasks in real Chromium against the real daemon: running a job from the Jobs
// page, following it to its task page, canceling it there (the command's
// processes die, no archive is left), and a failed backup's loud error, its
// stderr in the log, the dashboard's failures-first list and the failed filter
// of the Tasks page.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
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
  type JobBasics,
} from '../helpers/browser'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'

const skip = browserUnavailable()

/** Command lines of the processes running now whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(marker)) found.push(`${pid}: ${cmd}`)
    } catch {
      // gone meanwhile
    }
  }
  return found
}

describe.skipIf(skip !== null)('tasks in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let base: string
  let basics: JobBasics

  /** A job backing up an exec target with this backup command. */
  async function execJob(name: string, command: string): Promise<string> {
    const target = await created(d, '/v1/targets', {
      name,
      plugin: 'exec',
      endpoint: { backup_command: command, restore_command: 'cat > /dev/null' },
    })
    return created(d, '/v1/jobs', { name, target, ...basics })
  }

  /** Runs a job with the Jobs page's "Run now", follows the toast to the task page; its uuid. */
  async function runFromJobsPage(page: Page, job: string): Promise<string> {
    await goTo(page, 'Jobs')
    await page.getByTestId(`job-run-${job}`).click()
    const link = page.getByTestId('toast-task-link')
    await link.waitFor()
    const href = await link.getAttribute('href')
    const uuid = /^#\/tasks\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1]
    expect(uuid, `toast link ${href}`).toBeTruthy()
    await link.click()
    await page.waitForURL(`**/#/tasks/${uuid}`)
    await expect(page.getByTestId('task-type').textContent()).resolves.toBe('Backup')
    return uuid!
  }

  beforeAll(async () => {
    base = tempDir('bulwark-e2e-tasks-')
    d = await startDaemon()
    b = await launchBrowser()
    basics = await jobBasics(d, base)
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
    rmSync(base, { recursive: true, force: true })
  })

  it('cancels a running backup from its task page: canceled, no archive, its command killed', async () => {
    // A fractional sleep nobody else runs marks the command's processes.
    const marker = `sleep 60.${process.pid}`
    const job = await execJob('slow-dump', `${marker}; echo done`)
    const page = await signedIn(b, d)
    const uuid = await runFromJobsPage(page, 'slow-dump')

    const status = page.getByTestId('task-status')
    await page.locator('[data-testid="task-status"][data-status="running"]').waitFor()
    await page.getByTestId('task-progress').waitFor()
    await expect.poll(() => processesWith(marker).length, { timeout: 10_000 }).toBeGreaterThan(0)

    await page.getByTestId('task-cancel').click()
    const confirm = page.getByRole('dialog')
    await confirm.getByText('Cancel this backup?').waitFor()
    await confirm.getByRole('button', { name: 'Cancel the backup', exact: true }).click()

    await page.locator('[data-testid="task-status"][data-status="canceled"]').waitFor()
    expect(await status.textContent()).toContain('canceled')
    await page.getByText('This backup was canceled').waitFor()
    await expect(page.getByTestId('task-cancel').count()).resolves.toBe(0)
    await page.getByTestId('task-log').getByText('cancel requested by ui').waitFor()

    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(task.status, task.log).toBe('canceled')
    // The UI says who asks: the run and the cancel are the UI's.
    expect(task.owner).toBe('ui')
    expect(task.job_uuid).toBe(job)
    const valid = (await d.api('GET', `/v1/archives?job=${job}&status=valid`)).body
    expect(valid).toEqual([])
    await expect.poll(() => processesWith(marker), { timeout: 5000 }).toEqual([])
  })

  it('shows a failed backup loudly, with its stderr in the log, first on the dashboard and under the failed filter', async () => {
    // A healthy job that ran (done sorts last on the dashboard and is not failed).
    const fine = await execJob('aa-fine', 'echo fine')
    const ok = await runTask(d, `/v1/job/${fine}/run`)
    expect(ok.status, ok.log).toBe('done')
    await execJob('zz-pg-dump', 'echo "pg_dump: connection refused" >&2; exit 3')

    const page = await signedIn(b, d)
    const uuid = await runFromJobsPage(page, 'zz-pg-dump')

    await page.locator('[data-testid="task-status"][data-status="failed"]').waitFor()
    const alert = page.getByTestId('task-error')
    await alert.getByText('This backup failed').waitFor()
    await alert.getByText('exited with code 3').waitFor()
    await page.getByTestId('task-log').getByText('pg_dump: connection refused').first().waitFor()
    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    expect(task.status).toBe('failed')
    expect(task.error).toContain('pg_dump: connection refused')

    // The dashboard: the failed job first, whatever its name, with a link to its log.
    await goTo(page, 'Dashboard')
    const first = page.getByTestId('job-row').first()
    await page
      .locator('[data-testid="job-row"][data-job="zz-pg-dump"][data-state="failed"]')
      .waitFor()
    expect(await first.getAttribute('data-job')).toBe('zz-pg-dump')
    expect(await first.getAttribute('data-state')).toBe('failed')
    expect(
      await page.locator('[data-testid="job-row"][data-job="aa-fine"]').getAttribute('data-state'),
    ).toBe('done')
    await first.getByRole('link', { name: 'Open the log' }).click()
    await page.waitForURL(`**/#/tasks/${uuid}`)
    await page.getByTestId('task-error').waitFor()

    // The Tasks page: both backups, then only the failed one under the "failed" filter.
    await goTo(page, 'Tasks')
    const rows = page.getByTestId('task-row')
    await page.locator(`[data-testid="task-row"][data-uuid="${ok.uuid}"]`).waitFor()
    await page.locator(`[data-testid="task-row"][data-uuid="${uuid}"]`).waitFor()
    await page.getByTestId('filter-status').click()
    await page.locator('.n-base-select-option').getByText('failed', { exact: true }).click()
    await page.waitForURL(/[?&]status=failed/)
    await page
      .locator(`[data-testid="task-row"][data-uuid="${ok.uuid}"]`)
      .waitFor({ state: 'detached' })
    const row = page.locator(`[data-testid="task-row"][data-uuid="${uuid}"]`)
    await row.waitFor()
    expect(await row.getAttribute('data-status')).toBe('failed')
    await row.getByText('exited with code 3').waitFor()
    for (const s of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))))
      expect(s).toBe('failed')
  })
})
