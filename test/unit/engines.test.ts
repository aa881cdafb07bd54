// The install is quiet on the Node version package.json promises: every
// package in the lockfile accepts that version, except the desktop toolchain
// (Electron 45 and electron-builder's native-module rebuilder), which asks for
// Node 22.12 and is needed only to run or package the desktop app. The README
// names these; a new dependency that wants a newer Node fails here instead of
// adding an EBADENGINE warning to every newcomer's `npm ci`.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/daemon'

const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null
  satisfies(version: string, range: string, opts: { includePrerelease: boolean }): boolean
}

/** The packages the README says want Node 22.12 (the desktop app's toolchain). */
const DESKTOP_TOOLCHAIN = [
  '@electron-internal/extract-zip',
  '@electron/get',
  '@electron/rebuild',
  'electron',
  'node-abi',
]

interface LockedPackage {
  version?: string
  dev?: boolean
  optional?: boolean
  engines?: { node?: string } | string[]
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string }
}
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>
}

/** Lockfile entries (name@version, dev) whose engines refuse `node`; npm warns only for non-optional ones. */
function refusing(node: string): { id: string; name: string; dev: boolean }[] {
  const out = []
  for (const [path, p] of Object.entries(lock.packages)) {
    const range = Array.isArray(p.engines) ? undefined : p.engines?.node
    if (!path || p.optional || !range) continue
    if (semver.satisfies(node, range, { includePrerelease: true })) continue
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    out.push({ id: `${name}@${p.version}`, name, dev: p.dev === true })
  }
  return out
}

describe('engines', () => {
  const minimum = semver.minVersion(pkg.engines.node)!.version

  it('every package but the desktop toolchain accepts the Node version package.json promises', () => {
    const refused = refusing(minimum)
    expect(refused.filter((p) => !DESKTOP_TOOLCHAIN.includes(p.name)).map((p) => p.id)).toEqual([])
    // The toolchain is a development dependency: the daemon never loads it.
    expect(refused.filter((p) => !p.dev).map((p) => p.id)).toEqual([])
  })

  it('on Node 22.13 no package refuses (the README says the install is silent there)', () => {
    expect(refusing('22.13.0').map((p) => p.id)).toEqual([])
  })

  it('the check can fail: Node 18 is refused by packages outside the toolchain', () => {
    expect(refusing('18.0.0').some((p) => !DESKTOP_TOOLCHAIN.includes(p.name))).toBe(true)
  })

  it('the README names each package of the toolchain that warns', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    for (const name of new Set(refusing(minimum).map((p) => p.name)))
      expect(readme, `README names ${name}`).toContain(`\`${name}\``)
  })
})
