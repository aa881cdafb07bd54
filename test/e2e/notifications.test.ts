// Notifications in real Chromium against the real daemon, by clicks: an ntfy
// channel and an email channel added on the Notifications page, pointing at an
// ntfy-shaped receiver and a real SMTP server (smtp-server) started here, each
// tried with Send test before it is saved; then a job whose target is broken
// runs twice and one failure message arrives on each, and one recovery
// message on each once the target is fixed.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rmSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { SMTPServer } from 'smtp-server'
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

/** A message as ntfy gets it: JSON posted to the server's root. */
interface Published {
  headers: IncomingHttpHeaders
  json: { topic?: string; title?: string; message?: string }
}

const TOKEN = 'tk_e2e_9f2b7c41d0'

describe.skipIf(skip !== null)('notifications in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  let receiver: Server
  let server: string
  let base: string
  let target: string
  const published: Published[] = []
  let smtp: SMTPServer
  let smtpPort: number
  /** Each mail the SMTP server accepted: its envelope recipients and raw message. */
  const mails: { to: string[]; raw: string }[] = []

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        try {
          published.push({ headers: req.headers, json: JSON.parse(body) })
        } catch {
          published.push({ headers: req.headers, json: {} })
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: String(published.length), event: 'message' }))
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    server = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, done) {
        let raw = ''
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')))
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw })
          done()
        })
      },
    })
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r))
    smtpPort = (smtp.server.address() as AddressInfo).port
    base = tempDir('bulwark-e2e-notify-')
    d = await startDaemon()
    b = await launchBrowser()
    const basics = await jobBasics(d, base)
    target = await created(d, '/v1/targets', {
      name: 'orders-db',
      plugin: 'exec',
      endpoint: { backup_command: 'echo orders', restore_command: 'cat > /dev/null' },
    })
    await created(d, '/v1/jobs', { name: 'orders-nightly', target, ...basics })
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
    await new Promise((r) => receiver?.close(r))
    await new Promise((r) => smtp?.close(() => r(null)))
    rmSync(base, { recursive: true, force: true })
  })

  /** Points the target at a command that works, or one that fails. */
  async function setTarget(command: string) {
    const res = await d.api('PUT', `/v1/target/${target}`, {
      name: 'orders-db',
      summary: '',
      plugin: 'exec',
      endpoint: { backup_command: command, restore_command: 'cat > /dev/null' },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  }

  /** "Run now" on the Jobs page; the backup's task uuid, from the toast's link, once it ends. */
  async function runNow(page: Page): Promise<string> {
    await goTo(page, 'Jobs')
    await page.getByTestId('job-run-orders-nightly').click()
    const link = page.getByTestId('toast-task-link').last()
    await link.waitFor()
    const uuid = /tasks\/([0-9a-f-]{36})$/.exec((await link.getAttribute('href')) ?? '')?.[1]
    expect(uuid).toBeTruthy()
    return (await waitForTask(d, uuid!)).status
  }

  /** The mail's Subject header, unfolded. */
  const subject = (raw: string) =>
    /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? ''

  it('adds an ntfy and an email channel, tests them, and hears once on each of a broken job and once of its recovery', async () => {
    const page = await signedIn(b, d)
    await goTo(page, 'Notifications')
    await page.getByTestId('empty-state').waitFor()
    await page.getByTestId('first-channel').click()
    await page.getByTestId('channel-kind').click()
    await page.keyboard.type('ntfy')
    await page.keyboard.press('Enter')
    await page.getByLabel('Name', { exact: true }).fill('phone')
    await page.getByLabel('Server', { exact: true }).fill(server)
    await page.getByLabel('Topic', { exact: true }).fill('bulwark-e2e')
    await page.getByLabel('Access token', { exact: true }).fill(TOKEN)

    // Send test before Create: the receiver gets it, with the token.
    await page.getByTestId('editor-test').click()
    await page.locator('[data-testid="editor-test-result"][data-ok="true"]').waitFor()
    expect(published).toHaveLength(1)
    expect(published[0]!.json.topic).toBe('bulwark-e2e')
    expect(published[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`)

    await page.getByTestId('editor-save').click()
    const row = page.locator('[data-testid="channel-row"][data-name="phone"]')
    await row.waitFor()
    await expect(row.getByTestId('channel-events').textContent()).resolves.toBe('Failures only')
    await page.getByTestId('channel-editor').waitFor({ state: 'detached' })
    expect(await page.content()).not.toContain(TOKEN)
    // Edit: the token is stored, not shown.
    await page.getByTestId('channel-edit-phone').click()
    const token = page.getByLabel('Access token', { exact: true })
    await expect(token.getAttribute('placeholder')).resolves.toBe('stored; type to replace')
    await expect(token.inputValue()).resolves.toBe('')
    expect(await page.content()).not.toContain(TOKEN)
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.getByTestId('channel-editor').waitFor({ state: 'detached' })

    // An email channel, through a real SMTP server (no TLS on this local one).
    await page.getByTestId('new-channel').click()
    await page.getByTestId('channel-kind').click()
    await page.keyboard.type('email')
    await page.keyboard.press('Enter')
    await page.getByLabel('Name', { exact: true }).fill('ops-mail')
    await page.getByLabel('SMTP host', { exact: true }).fill('127.0.0.1')
    await page.getByLabel('Port', { exact: true }).fill(String(smtpPort))
    await page.locator('[data-field="security"] .n-base-selection').click()
    await page.locator('.n-base-select-option', { hasText: /^none$/ }).click()
    await page.getByLabel('From', { exact: true }).fill('bulwark@example.com')
    await page.locator('[data-field="to"] button').click()
    await page.keyboard.type('ops@example.com')
    await page.keyboard.press('Enter')
    await page.getByTestId('editor-test').click()
    await page.locator('[data-testid="editor-test-result"][data-ok="true"]').waitFor()
    expect(mails.map((m) => m.to)).toEqual([['ops@example.com']])
    await page.getByTestId('editor-save').click()
    await page.locator('[data-testid="channel-row"][data-name="ops-mail"]').waitFor()
    await page.getByTestId('channel-editor').waitFor({ state: 'detached' })

    // A backup that works says nothing ("failures only").
    expect(await runNow(page)).toBe('done')
    await setTarget('echo "orders-db is down" >&2; exit 3')
    expect(await runNow(page)).toBe('failed')
    await expect.poll(() => published.length, { timeout: 30_000 }).toBe(2)
    await expect.poll(() => mails.length, { timeout: 30_000 }).toBe(2)
    expect(published[1]!.json.title).toMatch(/orders-nightly/)
    expect(published[1]!.json.title).toMatch(/fail/i)
    expect(subject(mails[1]!.raw)).toMatch(/orders-nightly.*fail/i)
    // Failing again: no second message on either channel.
    expect(await runNow(page)).toBe('failed')

    // Fixed: one message that it works again, and none more for the failure.
    await setTarget('echo orders')
    expect(await runNow(page)).toBe('done')
    await expect.poll(() => published.length, { timeout: 30_000 }).toBe(3)
    await expect.poll(() => mails.length, { timeout: 30_000 }).toBe(3)
    expect(published[2]!.json.title).toMatch(/orders-nightly/)
    expect(published[2]!.json.title).not.toMatch(/fail/i)
    expect(subject(mails[2]!.raw)).toMatch(/orders-nightly/)
    expect(subject(mails[2]!.raw)).not.toMatch(/fail/i)

    // The page shows the last delivery as ok.
    await goTo(page, 'Notifications')
    await row.locator('[data-testid="channel-delivery"][data-ok="true"]').waitFor()
    expect(published.map((p) => p.json.topic)).toEqual(Array(3).fill('bulwark-e2e'))
  })
})
