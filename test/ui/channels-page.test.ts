// @vitest-environment happy-dom
// The Notifications page against a real daemon and a real HTTP receiver: a
// webhook channel made in the editor, tried with "Send test" before it is
// saved and again from its row once it is; a receiver that answers 500 shown
// as a failure in words; a stored secret shown as stored, never in clear; the
// daemon's settings error on the field it names; the list following changes
// made elsewhere.
import { flushPromises } from '@vue/test-utils'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Channel } from '../../src-daemon/contract'
import ChannelsPage from '../../src-renderer/src/pages/ChannelsPage.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { byTestId, input, startUiDaemon, type, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

/** What the receiver was sent. */
interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

let d: RunningDaemon
let receiver: Server
let base: string
const received: Received[] = []
const SECRET = 'Bearer s3cret-token-7f3a9c'

beforeAll(async () => {
  d = await startUiDaemon()
  // /ok answers 204, /fail 500 with words a person can read.
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body })
      if (req.url?.startsWith('/fail')) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'the receiver is down for maintenance' }))
      } else res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
})
afterAll(async () => {
  await d?.stop()
  await new Promise((r) => receiver?.close(r))
})
afterEach(unmountPages)

const mountChannels = () =>
  mountPage(d, '/channels', [{ path: '/channels', component: ChannelsPage }])

const row = (name: string) =>
  document.querySelector<HTMLElement>(`[data-testid="channel-row"][data-name="${name}"]`)
const inRow = (name: string, testid: string) =>
  row(name)?.querySelector<HTMLElement>(`[data-testid="${testid}"]`) ?? null
const fieldError = (name: string) =>
  document.querySelector(`[data-field="${name}"] .n-form-item-feedback`)?.textContent ?? ''
const toasts = () =>
  [...document.querySelectorAll('.n-message')].map((m) => m.textContent ?? '').join('\n')

/**
 * Chooses the kind at `index` in the daemon's order by keys (the menu's
 * virtual list draws no options under happy-dom): open, down, Enter.
 */
async function pickKind(index: number, field: string) {
  const selection = byTestId('channel-kind')!.querySelector<HTMLElement>('.n-base-selection')!
  selection.click()
  await flushPromises()
  for (let i = 0; i < index; i++) {
    selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
    await flushPromises()
  }
  selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
  await until(() => input(field), `the ${field} setting`)
}

/** Adds one entry to the list field `name` (NDynamicTags): +, type, Enter. */
async function addEntry(name: string, value: string) {
  const item = document.querySelector<HTMLElement>(`[data-field="${name}"]`)!
  item.querySelector<HTMLElement>('button')!.click()
  const box = await until(() => item.querySelector<HTMLInputElement>('input'), 'the entry input')
  box.value = value
  box.dispatchEvent(new Event('input', { bubbles: true }))
  await flushPromises()
  box.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter', bubbles: true }))
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
  await until(() => item.textContent?.includes(value), 'the entry to be added')
}

/** The radio labelled `label` in the group with this test id. */
const radio = (testid: string, label: string) =>
  [...byTestId(testid)!.querySelectorAll<HTMLElement>('.n-radio')].find(
    (r) => r.textContent?.trim() === label,
  )!

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

const channels = async () => (await d.api<Channel[]>('GET', '/v1/channels')).body

describe('ChannelsPage', () => {
  it('explains channels while there are none, and follows channels made elsewhere', async () => {
    await mountChannels()
    const empty = await until(() => byTestId('empty-state'), 'the empty state')
    expect(empty.textContent).toContain('No notification channels yet')
    expect(empty.textContent).toMatch(/failed backup/)
    const res = await d.api('POST', '/v1/channels', {
      name: 'made-by-api',
      kind: 'webhook',
      settings: { url: `${base}/ok/api` },
      events: [
        'backup.started',
        'backup.failed',
        'backup.succeeded',
        'backup.recovered',
        'restore.finished',
        'restore.failed',
        'verify.damage',
        'purge.failed',
        'gc.failed',
        'health.stale',
        'health.shrunk',
        'health.low-space',
        'health.verify-overdue',
      ],
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    // The resource event brings it in: no reload by hand.
    await until(() => row('made-by-api'), 'the channel made through the API')
    expect(inRow('made-by-api', 'channel-events')!.textContent).toBe('Everything')
    expect(inRow('made-by-api', 'channel-jobs')!.textContent).toBe('All jobs')
    expect(inRow('made-by-api', 'channel-kind-tag')!.textContent).toBe('Webhook')
    expect(inRow('made-by-api', 'channel-delivery')!.textContent).toBe('never')
    await d.api('DELETE', `/v1/channel/${res.body.uuid}`)
    await until(() => !row('made-by-api'), 'the deleted channel to leave the list')
  })

  it('sends a test before saving, saves, and sends one from the row; the secret stays stored', async () => {
    await mountChannels()
    byTestId('new-channel')!.click()
    await until(() => byTestId('channel-editor'), 'the editor')
    await pickKind(0, 'url')
    await type('name', 'team-hook')
    await type('url', `${base}/ok/team`)
    await addEntry('secret_headers', `Authorization: ${SECRET}`)

    // Send test, before anything is saved: the receiver gets it, with the secret header.
    const before = received.length
    byTestId('editor-test')!.click()
    const result = await until(() => byTestId('editor-test-result'), 'the test’s answer', 30_000)
    expect(result.dataset.ok, result.textContent ?? '').toBe('true')
    expect(result.textContent).toContain('delivered')
    expect(received.length).toBe(before + 1)
    expect(received.at(-1)!.path).toBe('/ok/team')
    expect(received.at(-1)!.headers.authorization).toBe(SECRET)
    expect(await channels()).toHaveLength(0)

    // Create: the row says "Failures only" (the default) and has delivered nothing yet.
    byTestId('editor-save')!.click()
    await until(() => row('team-hook'), 'the new channel’s row', 30_000)
    expect(inRow('team-hook', 'channel-events')!.textContent).toBe('Failures only')
    expect(received.length).toBe(before + 1)

    // Send test from the row: a toast, and the row's last delivery is ok.
    inRow('team-hook', 'channel-test-team-hook')!.click()
    await until(
      () => inRow('team-hook', 'channel-delivery')?.dataset.ok === 'true',
      'the row’s last delivery to be ok',
      30_000,
    )
    expect(inRow('team-hook', 'channel-delivery')!.textContent).toContain('delivered')
    expect(received.length).toBe(before + 2)
    expect(toasts()).toContain('team-hook: test message delivered')

    // The stored secret: redacted by the API, "stored" in the editor, nowhere in the page.
    const [saved] = await channels()
    expect(saved!.settings.secret_headers).toEqual(expect.stringMatching(/redacted/))
    inRow('team-hook', 'channel-edit-team-hook')!.click()
    await until(() => byTestId('secret-list-stored'), 'the stored secret headers')
    expect(input('url').value).toBe(`${base}/ok/team`)
    expect(byTestId('editor-test')).toBeNull()
    expect(document.body.innerHTML).not.toContain('s3cret-token')
    // Saved unchanged, the secret is kept: the next test still carries it.
    byTestId('editor-save')!.click()
    await until(() => !byTestId('channel-editor'), 'the editor to close', 30_000)
    inRow('team-hook', 'channel-test-team-hook')!.click()
    await until(() => received.length === before + 3, 'the third message', 30_000)
    expect(received.at(-1)!.headers.authorization).toBe(SECRET)
    expect(document.body.innerHTML).not.toContain('s3cret-token')
  })

  it('shows a receiver that answers 500 as a failure in words', async () => {
    const res = await d.api('POST', '/v1/channels', {
      name: 'broken-hook',
      kind: 'webhook',
      settings: { url: `${base}/fail/broken` },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    await mountChannels()
    await until(() => row('broken-hook'), 'the channel’s row')
    inRow('broken-hook', 'channel-test-broken-hook')!.click()
    await until(
      () => inRow('broken-hook', 'channel-delivery')?.dataset.ok === 'false',
      'the row’s last delivery to be failed',
      60_000,
    )
    const detail = inRow('broken-hook', 'channel-delivery-detail')!.textContent ?? ''
    expect(detail).toMatch(/500/)
    expect(inRow('broken-hook', 'channel-delivery')!.textContent).toContain('failed')
    expect(toasts()).toContain('broken-hook: test message not delivered')
    expect(received.some((r) => r.path === '/fail/broken')).toBe(true)
  })

  it('edits which events and jobs a channel hears about, and deletes it after asking', async () => {
    const target = await created('/v1/targets', {
      name: 'orders-db',
      plugin: 'exec',
      endpoint: { backup_command: 'echo data', restore_command: 'cat > /dev/null' },
    })
    const store = await created('/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
    })
    const schedule = await created('/v1/schedules', {
      name: 'weekly',
      when: 'weekly at 2:30am on sundays',
    })
    const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
    const job = await created('/v1/jobs', {
      name: 'orders-nightly',
      target,
      store,
      schedule,
      retention,
    })
    const uuid = await created('/v1/channels', {
      name: 'rules-hook',
      kind: 'webhook',
      settings: { url: `${base}/ok/rules` },
    })
    await mountChannels()
    await until(() => row('rules-hook'), 'the channel’s row')
    expect(inRow('rules-hook', 'channel-events')!.textContent).toBe('Failures only')

    inRow('rules-hook', 'channel-edit-rules-hook')!.click()
    await until(() => byTestId('channel-editor'), 'the editor')
    expect(byTestId('channel-event-boxes')).toBeNull()
    radio('channel-preset', 'Choose…').click()
    const events = await until(() => byTestId('channel-event-boxes'), 'the event checkboxes')
    const box = (e: string) => events.querySelector<HTMLElement>(`[data-event="${e}"]`)!
    expect(box('health.stale').getAttribute('aria-checked')).toBe('true')
    expect(box('backup.succeeded').getAttribute('aria-checked')).toBe('false')
    box('health.stale').click()
    await until(() => box('health.stale').getAttribute('aria-checked') === 'false', 'an untick')
    box('backup.succeeded').click()
    await until(() => box('backup.succeeded').getAttribute('aria-checked') === 'true', 'a tick')
    radio('channel-all-jobs', 'Only these:').click()
    const jobs = await until(() => byTestId('channel-job-picker'), 'the job picker')
    const selection = jobs.querySelector<HTMLElement>('.n-base-selection')!
    selection.click()
    await flushPromises()
    selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
    await until(() => jobs.textContent?.includes('orders-nightly'), 'the job to be picked')
    await type('reminder_hours', '6')
    // The number is taken when the field is left, as clicking Save would.
    input('reminder_hours').dispatchEvent(new FocusEvent('blur'))
    await flushPromises()
    byTestId('editor-save')!.click()
    await until(() => !byTestId('channel-editor'), 'the editor to close', 30_000)

    const saved = (await d.api<Channel>('GET', `/v1/channel/${uuid}`)).body
    expect(saved.events).toContain('backup.succeeded')
    expect(saved.events).not.toContain('health.stale')
    expect(saved.events).toHaveLength(10)
    expect(saved.jobs).toEqual([job])
    expect(saved.reminder_hours).toBe(6)
    await until(
      () => inRow('rules-hook', 'channel-jobs')?.textContent === 'orders-nightly',
      'the row to name the job',
    )
    expect(inRow('rules-hook', 'channel-events')!.textContent).toBe('10 events')

    // Delete asks first; Cancel keeps it, Delete removes it.
    inRow('rules-hook', 'channel-delete-rules-hook')!.click()
    const dialog = await until(
      () => document.querySelector<HTMLElement>('.n-dialog'),
      'the question',
    )
    expect(dialog.textContent).toContain('Delete channel rules-hook?')
    const button = (label: string) =>
      [...dialog.querySelectorAll<HTMLElement>('button')].find(
        (b) => b.textContent?.trim() === label,
      )!
    button('Delete').click()
    await until(() => !row('rules-hook'), 'the row to go', 30_000)
    expect((await d.api('GET', `/v1/channel/${uuid}`)).status).toBe(404)
  })

  it('puts the daemon’s settings error on its field, for Send test and for Create', async () => {
    await mountChannels()
    byTestId('new-channel')!.click()
    await until(() => byTestId('channel-editor'), 'the editor')
    await pickKind(0, 'url')
    await type('name', 'bad-hook')
    // Required, checked before sending.
    byTestId('editor-save')!.click()
    await until(() => fieldError('url').includes('required'), 'the missing URL')
    await type('url', 'ftp://example.com/hook')
    const before = received.length
    byTestId('editor-test')!.click()
    await until(
      () => fieldError('url').includes('must be'),
      'the daemon’s error on the URL',
      30_000,
    )
    expect(fieldError('url')).toContain('http:// or https://')
    expect(byTestId('editor-test-result')).toBeNull()
    expect(received.length).toBe(before)
    // Fixed, the test goes out and the error is gone.
    await type('url', `${base}/ok/bad`)
    byTestId('editor-test')!.click()
    await until(() => byTestId('editor-test-result'), 'the test’s answer', 30_000)
    expect(fieldError('url')).not.toContain('must be')
    await type('url', 'not a url')
    expect(byTestId('editor-test-result')).toBeNull()
    byTestId('editor-save')!.click()
    await until(() => fieldError('url').includes('must be'), 'the daemon’s error on Create', 30_000)
    expect(byTestId('channel-editor')).toBeTruthy()
    expect(received.length).toBe(before + 1)
    expect((await channels()).map((c) => c.name)).not.toContain('bad-hook')
  })
})
