// The desktop packaging config (build/electron-builder.yml), checked without
// Electron (its binary cannot be downloaded here): valid against
// electron-builder's own schema, and the files it would package hold what
// the app needs at run time, where the built code looks for them.
import Ajv from 'ajv'
import { minimatch } from 'minimatch'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundledExternalPlugins } from '../../src-daemon/main'
import { ROOT } from '../helpers/daemon'

/** js-yaml (electron-builder's own YAML reader) has no types of its own. */
const { load } = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown }

interface BuilderConfig {
  files: string[]
  asarUnpack?: string[]
  [key: string]: unknown
}

const config = load(readFileSync(join(ROOT, 'build/electron-builder.yml'), 'utf8')) as BuilderConfig
const packaged = (path: string) =>
  config.files.some((p) => minimatch(path, p)) &&
  !config.files.some((p) => p.startsWith('!') && minimatch(path, p.slice(1)))
const unpacked = (path: string) => (config.asarUnpack ?? []).some((p) => minimatch(path, p))

describe('packaging config', () => {
  it("is valid against electron-builder's schema", () => {
    const schema = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8'),
    ) as object
    const ajv = new Ajv({ strict: false, allErrors: true })
    const valid = ajv.validate(schema, config)
    expect(ajv.errors ?? [], JSON.stringify(ajv.errors, null, 2)).toEqual([])
    expect(valid).toBe(true)
    // The check can fail: a misspelled option is refused.
    expect(ajv.validate(schema, { ...config, asarUnpak: ['x'] })).toBe(false)
  })

  it('packages the built main process, daemon, CLI, preload and UI, and the entry package.json names', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string }
    const needed = [
      pkg.main,
      'out/main/daemon.js',
      'out/main/cli.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
      'bin/bulwark.js',
      'package.json',
    ]
    for (const file of needed) {
      expect(existsSync(join(ROOT, file)), `${file} is built`).toBe(true)
      expect(packaged(file), `${file} is packaged`).toBe(true)
    }
    // Every chunk the built entries import comes along.
    for (const f of readdirSync(join(ROOT, 'out/main'), { recursive: true, encoding: 'utf8' })) {
      expect(packaged(`out/main/${f}`), `out/main/${f}`).toBe(true)
    }
  })

  it('has the daemon look for the external plugins unpacked beside the asar', () => {
    const app = '/opt/Bulwark/resources/app.asar'
    expect(bundledExternalPlugins(`${app}/out/main/daemon.js`)).toBe(
      '/opt/Bulwark/resources/app.asar.unpacked/plugins/external',
    )
    expect(bundledExternalPlugins(join(ROOT, 'out/main/daemon.js'))).toBe(
      join(ROOT, 'plugins/external'),
    )
  })

  it('ships the external plugins where the daemon looks for them, outside the asar so they can run', () => {
    // src-daemon/main.ts: out/main/daemon.js → ../../plugins/external, i.e. inside the app.
    const dir = join(ROOT, 'plugins/external')
    const plugins = readdirSync(dir)
    expect(plugins.length).toBeGreaterThan(0)
    for (const name of plugins) {
      const path = `plugins/external/${name}`
      if (process.platform !== 'win32') expect(statSync(join(dir, name)).mode & 0o111).not.toBe(0)
      expect(packaged(path), `${path} is packaged`).toBe(true)
      expect(unpacked(path), `${path} is unpacked from the asar`).toBe(true)
    }
  })

  it('unpacks every native module the daemon loads from the asar', () => {
    // The .node files of the native dependencies as installed here (the
    // keychain binding's sits in its per-platform package under @napi-rs/).
    const found: string[] = []
    const walk = (dir: string) => {
      if (!existsSync(dir)) return
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else if (entry.name.endsWith('.node')) found.push(relative(ROOT, path))
      }
    }
    for (const mod of ['better-sqlite3', 'zstd-napi', '@napi-rs'])
      walk(join(ROOT, 'node_modules', mod))
    for (const mod of ['better-sqlite3', 'zstd-napi', '@napi-rs/keyring']) {
      expect(
        found.some((p) => p.startsWith(`node_modules/${mod}`)),
        `${mod} has a .node file`,
      ).toBe(true)
    }
    for (const path of found) expect(unpacked(path), `${path} is unpacked`).toBe(true)
  })
})
