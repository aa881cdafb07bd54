// A newcomer's first command must not leave the checkout modified: the README
// installs with `npm ci` (as .ci/run does), which installs package-lock.json
// as it is and never rewrites it, whereas `npm install` may re-resolve it
// (drop an optional package that did not build, bump a range). The install itself runs only
// under CI (it takes about a minute): a fresh `git clone` of this repository,
// `npm ci` offline from the local npm cache, then `git status --porcelain`
// must be empty.
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, tempDir } from '../helpers/daemon'
import { skipTest } from '../helpers/skip'

/** The commands of the README's "Run it" block, without their comments. */
function readmeRunIt(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Run it'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean)
}

function run(cmd: string, args: string[], cwd: string) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}

describe('a fresh clone', () => {
  it('README and .ci/run install with npm ci, never npm install', () => {
    const commands = readmeRunIt()
    expect(commands).toContain('npm ci')
    expect(commands.some((c) => /^npm (install|i)\b/.test(c))).toBe(false)
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')
    expect(ci).toMatch(/^npm ci\b/m)
    expect(ci).not.toMatch(/^npm (install|i)\b/m)
  })

  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it.runIf(process.env.CI)(
    'stays unmodified after npm ci (run offline from the npm cache)',
    async (ctx) => {
      const dir = join(tempDir('bulwark-fresh-clone-'), 'bulwark')
      dirs.push(dir)
      const clone = await run('git', ['clone', '-q', '--depth', '1', `file://${ROOT}`, dir], ROOT)
      expect(clone.code, clone.out).toBe(0)
      // --omit=dev: the lockfile is checked whole all the same, and what is
      // installed is a quarter of it (about 18 s instead of 70 on two cores).
      const install = await run(
        'npm',
        ['ci', '--offline', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund'],
        dir,
      )
      if (install.code !== 0 && /ENOTCACHED|offline/i.test(install.out))
        skipTest(
          ctx,
          'packages npm ci --offline needs in the local npm cache',
          'run npm ci once with network access to fill it',
        )
      expect(install.code, install.out).toBe(0)
      // What the daemon runs on accepts the Node version package.json promises.
      expect(install.out).not.toContain('EBADENGINE')
      const status = await run('git', ['status', '--porcelain'], dir)
      expect(status.code).toBe(0)
      expect(status.out, 'files changed by npm ci in a fresh clone').toBe('')
    },
    300_000,
  )
})

if (!process.env.CI) {
  console.warn(
    'skipping the fresh-clone install test outside CI (it takes about a minute); run it with CI=true',
  )
}
