// POST /v1/targets/test and /v1/stores/test: an endpoint not saved yet (the
// form's Test before Create), checked as create checks it and answered as the
// saved resource's test is, its secrets never echoed.
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fsManifest from '../../plugins/stores/fs/manifest.json'
import fsModule from '../../plugins/stores/fs/index'
import type { PluginManifest } from '../../plugins/sdk/manifest'
import type { StorePlugin } from '../../plugins/sdk/types'
import { fromManifest } from '../../src-daemon/plugin-host/registry'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'
import { PG, postgresAvailable } from '../helpers/services'

const pgUp = postgresAvailable()

let d: RunningDaemon
beforeAll(async () => {
  d = await startDaemon()
})
afterAll(async () => {
  await d.stop()
})

/** A port nothing listens on: one the system gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const pg = (extra: Record<string, unknown> = {}) => ({
  ...PG,
  database: 'postgres',
  ...extra,
})

describe('testing an endpoint before it is saved', () => {
  it.skipIf(!pgUp)('reaches a postgres that answers, and saves nothing', async () => {
    const before = (await d.api('GET', '/v1/targets')).body.length
    const res = await d.api('POST', '/v1/targets/test', { plugin: 'postgres', endpoint: pg() })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toMatchObject({ ok: true })
    expect(typeof res.body.message).toBe('string')
    expect(typeof res.body.duration_ms).toBe('number')
    expect((await d.api('GET', '/v1/targets')).body).toHaveLength(before)
  })

  it('answers a closed port with ok false and a message, the password not in it', async () => {
    const secret = 'unsaved-Pg-Secret-77'
    const port = await closedPort()
    const res = await d.api('POST', '/v1/targets/test', {
      plugin: 'postgres',
      endpoint: pg({ port, password: secret }),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.ok).toBe(false)
    expect(res.body.message.length).toBeGreaterThan(0)
    expect(JSON.stringify(res.body)).not.toContain(secret)
    expect(d.stderr.join('\n')).not.toContain(secret)
  })

  it('refuses a bad field as create does: 400 naming it', async () => {
    const bad = await d.api('POST', '/v1/targets/test', {
      plugin: 'postgres',
      endpoint: pg({ port: 'abc' }),
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'validation', field: 'endpoint.port' })
    const unknown = await d.api('POST', '/v1/targets/test', {
      plugin: 'postgres',
      endpoint: pg({ hots: 'x' }),
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.field).toBe('endpoint.hots')
    const plugin = await d.api('POST', '/v1/targets/test', { plugin: 'oracle', endpoint: {} })
    expect(plugin.status).toBe(400)
    expect(plugin.body.error).toMatchObject({ code: 'unknown_plugin', field: 'plugin' })
    // A store plugin is tested as a store, not as a target.
    const fs = await d.api('POST', '/v1/targets/test', { plugin: 'fs', endpoint: { path: '/x' } })
    expect(fs.body.error.code).toBe('unknown_plugin')
  })

  it('tests a store without echoing its vault password, and checks it as create does', async () => {
    const secret = 'vault-Pass-Never-Shown-91'
    const dir = join(tempDir(), 'store')
    const res = await d.api('POST', '/v1/stores/test', {
      plugin: 'fs',
      endpoint: { path: dir, vault_password: secret },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.ok).toBe(true)
    expect(JSON.stringify(res.body)).not.toContain(secret)
    expect(d.stderr.join('\n')).not.toContain(secret)
    // The plugin's test made its directory; no vault was made in it, no store saved.
    expect(existsSync(dir)).toBe(true)
    expect((await d.api('GET', '/v1/stores')).body).toEqual([])
    const short = await d.api('POST', '/v1/stores/test', {
      plugin: 'fs',
      endpoint: { path: dir, vault_password: 'short' },
    })
    expect(short.status).toBe(400)
    expect(short.body.error.field).toBe('endpoint.vault_password')
    expect(JSON.stringify(short.body)).not.toContain('short"')
    const relative = await d.api('POST', '/v1/stores/test', {
      plugin: 'fs',
      endpoint: { path: 'relative/dir', vault_password: secret },
    })
    expect(relative.status).toBe(400)
    expect(relative.body.error.field).toBe('endpoint.path')
    expect(JSON.stringify(relative.body)).not.toContain(secret)
  })
})

describe('what the plugin gets of an unsaved store endpoint', () => {
  let inproc: InProcessDaemon | undefined
  afterAll(async () => {
    await inproc?.close()
  })

  it('is the endpoint without the vault password, as for a saved store', async () => {
    const seen: Record<string, unknown>[] = []
    inproc = await startInProcess({
      dataDir: join(tempDir('bulwark-endpoint-test-'), 'data'),
      clock: new TestClock(),
      plugins: (registry) => {
        const info = fromManifest(
          { ...(fsManifest as PluginManifest), name: 'spy-fs', title: 'Spy fs' },
          'builtin',
        )
        registry.add(info, async () => {
          const fs = fsModule.plugin as StorePlugin
          return {
            ...fs,
            test: (endpoint, ctx) => {
              seen.push({ ...endpoint })
              return fs.test(endpoint, ctx)
            },
          }
        })
      },
    })
    const secret = 'spy-Vault-Password-55'
    const path = join(tempDir(), 'store')
    const unsaved = await inproc.api('POST', '/v1/stores/test', {
      plugin: 'spy-fs',
      endpoint: { path, vault_password: secret },
    })
    expect(unsaved.status, JSON.stringify(unsaved.body)).toBe(200)
    expect(unsaved.body.ok).toBe(true)
    const created = await inproc.api('POST', '/v1/stores', {
      name: 'spy',
      plugin: 'spy-fs',
      endpoint: { path, vault_password: secret },
    })
    const saved = await inproc.api('POST', `/v1/store/${created.body.uuid}/test`)
    expect(saved.body.ok).toBe(true)
    expect(seen).toHaveLength(2)
    expect(seen[0]).toEqual(seen[1])
    expect(seen[0]).toMatchObject({ path })
    expect(JSON.stringify(seen)).not.toContain(secret)
    expect(Object.keys(seen[0]!)).not.toContain('vault_password')
  })
})
