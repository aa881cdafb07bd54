// The UI's side of the daemon: the built UI served at `/`, the one-time
// sign-in codes a browser trades for the token, and `bulwark ui`.
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, runCli, startDaemon, type RunningDaemon } from '../helpers/daemon'

let d: RunningDaemon
beforeAll(async () => {
  d = await startDaemon({ env: { BULWARK_WORKERS: '0' } })
})
afterAll(async () => {
  await d.stop()
})

const signIn = (code: string) =>
  fetch(`${d.url}/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  })

const codeOf = (url: string) => new URL(url.replace('/#/', '/')).searchParams.get('code')!

describe('serving the UI', () => {
  it('serves the built index.html at / with a strict content security policy', async () => {
    const res = await fetch(`${d.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    const html = await res.text()
    expect(html).toBe(readFileSync(join(ROOT, 'out/renderer/index.html'), 'utf8'))
    // Its scripts are served from the same daemon, cacheable for good.
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)![1]!
    const asset = await fetch(d.url + script)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toContain('javascript')
    expect(asset.headers.get('cache-control')).toContain('immutable')
  })

  it('serves nothing outside the UI directory, and keeps /v1 errors as JSON', async () => {
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/nope.js']) {
      const res = await fetch(d.url + path)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain('"name": "bulwark"')
    }
    const res = await fetch(`${d.url}/v1/nope`, { headers: { authorization: `Bearer ${d.token}` } })
    expect(res.status).toBe(404)
    expect(((await res.json()) as any).error.code).toBe('not_found')
  })

  it('refuses the UI to a foreign Host header like the API (DNS rebinding)', async () => {
    const u = new URL(d.url)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, path: '/', headers: { host: 'evil.example' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(403)
  })
})

describe('browser sign-in', () => {
  it('prints a one-time link whose code is traded for the token exactly once', async () => {
    expect(d.signInUrl.startsWith(`${d.url}/#/signin?code=`)).toBe(true)
    expect(d.signInUrl).not.toContain(d.token)
    const code = codeOf(d.signInUrl)
    const first = await signIn(code)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ token: d.token })
    const again = await signIn(code)
    expect(again.status).toBe(401)
    const body = (await again.json()) as any
    expect(body.error.message).toContain('already used or has expired')
    expect(body.error.message).toContain('bulwark ui')
  })

  it('refuses a made-up code, and a body without one names the field', async () => {
    expect((await signIn('x'.repeat(43))).status).toBe(401)
    const res = await fetch(`${d.url}/v1/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error.field).toBe('code')
  })

  it('issues new links only to a client holding the token', async () => {
    const anon = await fetch(`${d.url}/v1/auth/link`, { method: 'POST' })
    expect(anon.status).toBe(401)
    const { status, body } = await d.api('POST', '/v1/auth/link')
    expect(status).toBe(200)
    expect(body.url).toBe(d.url + body.path)
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now())
    expect((await signIn(codeOf(body.url))).status).toBe(200)
  })

  it('`bulwark ui` prints a fresh link that works once, and never the token', async () => {
    const res = await runCli(['ui'], { dataDir: d.dataDir })
    expect(res.code).toBe(0)
    const url = res.stdout.split('\n')[0]!
    expect(url.startsWith(`${d.url}/#/signin?code=`)).toBe(true)
    expect(res.stdout + res.stderr).not.toContain(d.token)
    expect((await signIn(codeOf(url))).status).toBe(200)
    expect((await signIn(codeOf(url))).status).toBe(401)
  })

  it('keeps the token and the codes out of the daemon log', () => {
    const log = d.stderr.join('\n')
    expect(log).not.toContain(d.token)
    expect(log).not.toContain(codeOf(d.signInUrl))
  })
})
