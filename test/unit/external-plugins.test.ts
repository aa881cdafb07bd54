// External plugins: discovery of executables speaking the plugin calling
// protocol, and the target / store adapters around them (with the shipped
// plugins/external examples and the fixtures in test/fixtures/external-plugins).
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { StorePlugin, TargetPlugin } from '../../plugins/sdk/types'
import {
  discoverExternalPlugins,
  externalStore,
  externalTarget,
  type ExternalPlugin,
} from '../../src-daemon/plugin-host/external'
import { alive, context, drain, meta, rejection, until } from '../fixtures/external-plugins/helpers'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIX = join(ROOT, 'test/fixtures/external-plugins')
const DISCOVER = join(FIX, 'discover')
const RUNTIME = join(FIX, 'runtime')
const SHIPPED = join(ROOT, 'plugins/external')

let tmp: string

beforeAll(() => {
  for (const dir of [DISCOVER, RUNTIME, SHIPPED]) {
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o755)
  }
  chmodSync(join(DISCOVER, 'plain'), 0o644)
  tmp = mkdtempSync(join(tmpdir(), 'bulwark-external-'))
})

afterAll(() => {
  chmodSync(join(DISCOVER, 'plain'), 0o755)
  rmSync(tmp, { recursive: true, force: true })
})

describe('discoverExternalPlugins', () => {
  let found: ExternalPlugin[]
  const logs: string[] = []
  let took = 0

  beforeAll(async () => {
    const extra = join(tmp, 'extra')
    mkdirSync(join(extra, 'adir'), { recursive: true })
    symlinkSync(join(DISCOVER, 'good'), join(extra, 'linked'))
    symlinkSync(join(DISCOVER, 'both'), join(extra, 'good')) // shadowed by the first dir's good
    symlinkSync(join(tmp, 'nowhere'), join(extra, 'dangling'))
    const started = Date.now()
    found = await discoverExternalPlugins([DISCOVER, extra, join(tmp, 'missing')], {
      log: (line) => logs.push(line),
      timeoutMs: 1000,
    })
    took = Date.now() - started
  })

  const entry = (kind: string, name: string) =>
    found.find((p) => p.info.kind === kind && p.info.name === name)
  const logFor = (name: string) => logs.find((l) => l.includes(`plugin ${name} `)) ?? ''

  it('finds exactly the good plugins, one entry per kind', () => {
    expect(found.map((p) => `${p.info.kind}:${p.info.name}`).sort()).toEqual([
      'store:both',
      'target:both',
      'target:good',
      'target:linked',
    ])
  })

  it('builds the registry entry from info, with the declared schema', () => {
    expect(entry('target', 'good')?.info).toEqual({
      name: 'good',
      kind: 'target',
      title: 'Good Target',
      version: '1.2.3',
      author: 'Test Author <t@example.com>',
      summary: `External target plugin (${join(DISCOVER, 'good')})`,
      source: 'external',
      fields: [
        { name: 'dsn', title: 'DSN', type: 'string', required: true },
        { name: 'password', title: 'password', type: 'string', secret: true },
      ],
      capabilities: [],
    })
  })

  it('marks a plugin without a schema any-endpoint, keeping secret_fields secret', () => {
    for (const kind of ['target', 'store']) {
      const info = entry(kind, 'both')?.info
      expect(info?.title).toBe('Both Ways')
      expect(info?.capabilities).toEqual(['any-endpoint'])
      expect(info?.fields).toEqual([
        { name: 'password', title: 'password', type: 'string', secret: true },
      ])
    }
  })

  it('loads the adapter of the right kind', async () => {
    const target = (await entry('target', 'both')!.load()) as TargetPlugin
    const store = (await entry('store', 'both')!.load()) as StorePlugin
    expect(typeof target.backup).toBe('function')
    expect(typeof store.put).toBe('function')
    expect('put' in target).toBe(false)
  })

  it('skips broken plugins with a log line saying why', () => {
    expect(logFor('badjson')).toMatch(/skipped: info did not print valid JSON/)
    expect(logFor('failing')).toMatch(
      /skipped: info exited with code 3: cannot find my config file/,
    )
    expect(logFor('slow')).toMatch(/skipped: info timed out after 1000 ms/)
    expect(logFor('neither')).toMatch(/skipped: features say it is neither a target nor a store/)
    expect(logFor('badfield')).toMatch(/skipped: fields\[0\]\.type must be one of/)
    expect(logs.find((l) => l.includes('Bad_Name'))).toMatch(/skipped: its file name must match/)
    expect(logs.find((l) => l.includes('dangling'))).toMatch(/skipped: ENOENT/)
    expect(logs.find((l) => l.includes(join(tmp, 'extra', 'good')))).toMatch(
      /skipped: .*good has the same name/,
    )
  })

  it('kills a plugin that does not answer info in time', () => {
    expect(took).toBeLessThan(4000)
  })

  it('ignores non-executable files, dotfiles and directories silently', () => {
    for (const name of ['plain', '.hidden', 'adir']) {
      expect(found.some((p) => p.info.name === name)).toBe(false)
      expect(logs.some((l) => l.includes(name))).toBe(false)
    }
  })

  it('treats a missing directory as empty', async () => {
    const lines: string[] = []
    const none = await discoverExternalPlugins([join(tmp, 'nope')], { log: (l) => lines.push(l) })
    expect(none).toEqual([])
    expect(lines).toEqual([])
  })
})

describe('the shipped dirstore through the store adapter', () => {
  const store = externalStore(meta(SHIPPED, 'dirstore', true))
  const endpoint = () => ({ path: join(tmp, 'dirstore') })

  it('puts, gets back the same bytes under the returned key, and purges', async () => {
    const { ctx } = context()
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256))
    const put = await store.put(endpoint(), 'archives/a1/data', Readable.from([data]), ctx)
    expect(put).toEqual({ key: 'archives/a1/data', size: data.length })
    expect((await drain(await store.get(endpoint(), put.key, ctx))).equals(data)).toBe(true)

    await store.delete(endpoint(), put.key, ctx)
    const err = await rejection(store.get(endpoint(), put.key, ctx))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(
      /^external plugin dirstore: retrieve exited with code 1: .*no blob under key archives\/a1\/data/,
    )
    await store.delete(endpoint(), put.key, ctx) // purging twice is fine
  })

  it('round-trips an empty blob', async () => {
    const { ctx } = context()
    const put = await store.put(endpoint(), 'empty', Readable.from([]), ctx)
    expect(put).toEqual({ key: 'empty', size: 0 })
    expect((await drain(await store.get(endpoint(), 'empty', ctx))).length).toBe(0)
  })

  it('has no stat or listing, and a connection test', async () => {
    const { ctx } = context()
    await store.put(endpoint(), 'k1', Readable.from([Buffer.from('x')]), ctx)
    expect(await store.head(endpoint(), 'k1', ctx)).toBeNull()
    const listed = []
    for await (const o of store.list(endpoint(), '', ctx)) listed.push(o)
    expect(listed).toEqual([])
    expect(await store.test(endpoint(), ctx)).toBe(`directory ${endpoint().path} is writable`)
  })

  it('refuses to act as a target', async () => {
    const { ctx } = context()
    const err = await rejection(externalTarget(meta(SHIPPED, 'dirstore')).backup(endpoint(), ctx))
    expect(err.message).toMatch(
      /dirstore: backup exited with code 1: dirstore: not a target plugin/,
    )
  })
})

describe('store adapter with a store that chooses its own keys', () => {
  const store = externalStore(meta(RUNTIME, 'keystore'))

  it('returns the key the plugin printed and the bytes it streamed', async () => {
    const { ctx, lines } = context()
    const chunks = [Buffer.alloc(70_000, 1), Buffer.alloc(5, 2)]
    const put = await store.put({ mode: 'ok' }, 'blobs/x', Readable.from(chunks), ctx)
    expect(put).toEqual({ key: 'own-70005', size: 70_005 })
    expect(lines).toContain('keystore: hint was blobs/x')
  })

  it('passes --key on argv to retrieve and purge', async () => {
    const { ctx } = context()
    const out = await drain(await store.get({}, 'own-1', ctx))
    expect(out.toString()).toBe('retrieved --key own-1')
    const err = await rejection(store.delete({}, 'locked', ctx))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe(
      'external plugin keystore: purge exited with code 2: blob locked is locked',
    )
    expect((err as PluginError).kind).toBe('permanent')
    const busy = await rejection(store.delete({}, 'busy', ctx))
    expect(busy.message).toBe(
      'external plugin keystore: purge exited with code 75: server busy, try later',
    )
    expect((busy as PluginError).kind).toBe('transient')
  })

  it('fails a store whose stdout has no key', async () => {
    const { ctx } = context()
    const err = await rejection(store.put({ mode: 'garbage' }, 'k', Readable.from(['abc']), ctx))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(
      /did not print \{"key": "\.\.\."\} on stdout \(it printed "stored it!"\)/,
    )
  })

  it('fails a store that exits 0 without reading its input', async () => {
    const { ctx } = context()
    const big = Readable.from([Buffer.alloc(1 << 20)])
    const err = await rejection(store.put({ mode: 'lazy' }, 'k', big, ctx))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(/exited without reading all of its input/)
  })

  it('passes on an input failure rather than letting the plugin see end-of-file', async () => {
    const { ctx } = context()
    const boom = new Error('upstream broke')
    const input = new Readable({ read() {} })
    input.push(Buffer.alloc(1000))
    setTimeout(() => input.destroy(boom), 100)
    const done = join(tmp, 'keystore-done')
    expect(await rejection(store.put({ mode: 'ok', done }, 'k', input, ctx))).toBe(boom)
    // That no marker appears is the point: a quiet moment is the only way to see it.
    await new Promise((r) => setTimeout(r, 300))
    expect(existsSync(done)).toBe(false)
    await store.put({ mode: 'ok', done }, 'k', Readable.from(['complete']), ctx)
    expect(existsSync(done)).toBe(true) // the marker works
  })
})

describe('target adapter', () => {
  it('keeps the endpoint out of argv and passes it in the environment', async () => {
    const { ctx } = context()
    const endpoint = { host: 'db', password: 'hunter2-S3CRET' }
    const out = (await drain(await externalTarget(meta(RUNTIME, 'probe')).backup(endpoint, ctx)))
      .toString()
      .split('\n')
    const line = (p: string) => out.find((l) => l.startsWith(p)) ?? ''
    expect(line('ARGV=')).toMatch(/runtime\/probe backup $/)
    expect(line('ARGV=')).not.toContain('S3CRET')
    expect(line('PS=')).not.toContain('S3CRET')
    expect(line('PS=')).not.toBe('PS=')
    expect(JSON.parse(line('SHIELD=').slice(7))).toEqual(endpoint)
    expect(JSON.parse(line('BULWARK=').slice(8))).toEqual(endpoint)
  })

  it('runs the test action when info offers it, else says there is none', async () => {
    const { ctx } = context()
    expect(await externalTarget(meta(RUNTIME, 'probe', true)).test({ a: 'bc' }, ctx)).toBe(
      'probe reached 10 bytes of endpoint',
    )
    expect(await externalTarget(meta(RUNTIME, 'probe')).test({}, ctx)).toBe(
      'external plugin probe 0.1.0 (no connection test available)',
    )
  })

  it('errors the backup stream when the plugin fails midway, with its stderr', async () => {
    const { ctx, lines } = context()
    const stream = await externalTarget(meta(RUNTIME, 'midway')).backup({}, ctx)
    const err = await rejection(drain(stream))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe(
      'external plugin midway: backup exited with code 4: reading table 7 / disk on fire at block 7',
    )
    expect(lines).toEqual(['midway: reading table 7', 'midway: disk on fire at block 7'])
  })

  it('kills the plugin and what it started when the backup is aborted', async () => {
    const abort = new AbortController()
    const { ctx, lines } = context(abort.signal)
    const stream = await externalTarget(meta(RUNTIME, 'slow-backup')).backup({}, ctx)
    const pid = (what: string) =>
      Number(lines.find((l) => l.startsWith(`slow-backup: ${what} `))?.split(' ')[2])
    await until(() => pid('pid') > 0 && pid('child') > 0)
    const pids = [pid('pid'), pid('child')]
    expect(pids.every(alive)).toBe(true)
    const done = rejection(drain(stream))
    abort.abort()
    expect(await done).toBeInstanceOf(PluginAbortedError)
    await until(() => !pids.some(alive))
  })

  it('restores with the shipped shell-target, refusing a non-empty directory', async () => {
    const { ctx } = context()
    const src = join(tmp, 'tree')
    mkdirSync(join(src, 'sub'), { recursive: true })
    writeFileSync(join(src, 'sub', 'file.txt'), 'payload\n')
    const target = externalTarget(meta(SHIPPED, 'shell-target', true))
    const dest = { path: join(tmp, 'restored') }
    await target.restore(dest, await target.backup({ path: src }, ctx), ctx)
    expect(readFileSync(join(dest.path, 'sub', 'file.txt'), 'utf8')).toBe('payload\n')
    expect(await target.test(dest, ctx)).toBe(`directory ${dest.path} is readable (1 entries)`)

    const err = await rejection(target.restore(dest, await target.backup({ path: src }, ctx), ctx))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(/shell-target: restore exited with code 1: .*is not empty/)
    await target.restore({ ...dest, overwrite: true }, await target.backup({ path: src }, ctx), ctx)
  })
})
