// @vitest-environment happy-dom
// The dashboard's health card against a real daemon whose free-space
// threshold (BULWARK_LOW_SPACE_BYTES) is above any disk's free space: with no
// store it says all is healthy; a local-directory store made through the API
// raises 'low-space', which the card shows from the event stream (a warning,
// its message, since when, a link to the stores); deleting the store clears
// it and the card says all is healthy again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { HealthReport } from '../../src-daemon/contract'
import HealthCard from '../../src-renderer/src/components/dashboard/HealthCard.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { allByTestId, byTestId, mountEditor, startUiDaemon, unmountAll, until } from '../helpers/ui'

let d: RunningDaemon

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '0', BULWARK_LOW_SPACE_BYTES: String(10 ** 18) })
}, 90_000)
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

const signals = () => allByTestId('health-signal')

describe('HealthCard', () => {
  it('says all is healthy, then shows a raised signal live, then clears it', async () => {
    await mountEditor(d, HealthCard, {})
    await until(() => byTestId('health-ok'), 'the healthy line')
    expect(byTestId('health-ok')!.textContent).toContain('All healthy')
    expect(byTestId('health-summary')).toBeNull()

    const res = await d.api('POST', '/v1/stores', {
      name: 'nearly-full',
      plugin: 'fs',
      endpoint: { path: tempDir('bulwark-ui-health-store-') },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const store = res.body.uuid as string

    const [row] = await until(() => (signals().length > 0 ? signals() : null), 'the signal')
    expect(signals()).toHaveLength(1)
    expect(row!.dataset).toMatchObject({
      signal: 'low-space',
      severity: 'warning',
      subject: store,
    })
    expect(row!.querySelector('[aria-label="warning"]')).not.toBeNull()
    expect(row!.textContent).toContain('Store running out of space')
    expect(row!.textContent).toContain('nearly-full')
    const report = (await d.api<HealthReport>('GET', '/v1/health')).body
    expect(row!.querySelector('[data-testid="health-message"]')!.textContent).toBe(
      report.signals[0]!.message,
    )
    expect(row!.querySelector('[data-testid="health-since"]')!.textContent).toMatch(
      /since (just now|\d+ s ago)/,
    )
    expect(row!.querySelector('[data-testid="health-link"]')!.getAttribute('href')).toContain(
      '/stores',
    )
    expect(byTestId('health-summary')!.textContent).toContain('1 warning')
    expect(byTestId('health-ok')).toBeNull()

    expect((await d.api('DELETE', `/v1/store/${store}`)).status).toBe(200)
    await until(() => byTestId('health-ok'), 'the healthy line again')
    expect(signals()).toHaveLength(0)
  })
})
