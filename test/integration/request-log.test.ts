// The daemon's log as a log shipper reads it (BULWARK_LOG_FORMAT=json): one
// pino line per answered request, with method, path, status and time, and
// nothing that opens anything: not the API token (it travels in a header),
// not a download ticket in the query, not a secret from a request body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, waitForLog, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
beforeAll(async () => {
  d = await startDaemon({ env: { BULWARK_LOG_FORMAT: 'json' } })
})
afterAll(() => d?.stop())

const events = () =>
  d.stderr.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === 'request')

describe('request log', () => {
  it('writes every line as JSON, and one event per request', async () => {
    expect(d.stderr.length).toBeGreaterThan(0)
    for (const line of d.stderr) expect(() => JSON.parse(line), line).not.toThrow()
    const res = await d.api('GET', '/v1/targets')
    expect(res.status).toBe(200)
    await waitForLog(d, (l) => l.includes('"path":"/v1/targets"'))
    expect(events().find((e) => e.path === '/v1/targets')).toMatchObject({
      level: 'debug',
      method: 'GET',
      status: 200,
    })
  })

  it('logs a change at info and never the secrets it carried', async () => {
    const secret = 'pw-request-log-7f3a9c'
    const res = await d.api('POST', '/v1/stores', {
      name: 'logged',
      plugin: 'fs',
      endpoint: { path: tempDir('bulwark-reqlog-'), vault_password: secret },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    await waitForLog(d, (l) => l.includes('"method":"POST"'))
    expect(events().find((e) => e.method === 'POST')).toMatchObject({
      level: 'info',
      path: '/v1/stores',
      status: 200,
    })
    const log = d.stderr.join('\n')
    expect(log).not.toContain(secret)
    expect(log).not.toContain(d.token)
  })

  it('masks a download ticket in the query', async () => {
    const ticket = 'tk-request-log-0c1d2e3f'
    const res = await fetch(
      `${d.url}/v1/archive/00000000-0000-4000-8000-000000000000/download?ticket=${ticket}&part=x`,
    )
    expect(res.status).toBe(401)
    await waitForLog(d, (l) => l.includes('/download?'))
    const event = events().find((e) => String(e.path).includes('/download?'))
    expect(event?.path).toBe(
      '/v1/archive/00000000-0000-4000-8000-000000000000/download?ticket=<redacted>&part=x',
    )
    expect(event?.status).toBe(401)
    expect(d.stderr.join('\n')).not.toContain(ticket)
  })
})
