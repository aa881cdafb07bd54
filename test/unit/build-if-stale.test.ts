// scripts/build-if-stale.js, which `npm start` runs before the daemon: it
// builds only when out/ is missing or older than a source, saying so. Run on
// a copy of the script in a scratch tree whose `npm run build` only writes
// the outputs.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { beforeEach, expect, it } from 'vitest'

const SCRIPT = resolve(import.meta.dirname, '../../scripts/build-if-stale.js')
const OUTPUTS = [
  'out/main/daemon.js',
  'out/main/cli.js',
  'out/main/index.js',
  'out/preload/index.cjs',
  'out/renderer/index.html',
]
let root: string

function write(rel: string, text = '', mtimeSec?: number) {
  const file = join(root, rel)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
  if (mtimeSec !== undefined) utimesSync(file, mtimeSec, mtimeSec)
}

const run = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
  })

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'bulwark-stale-'))
  mkdirSync(join(root, 'scripts'))
  copyFileSync(SCRIPT, join(root, 'scripts', 'build-if-stale.js'))
  // A build that writes every output (now), as electron-vite would.
  write(
    'build.cjs',
    `const fs = require('fs'), path = require('path')\n` +
      `for (const o of ${JSON.stringify(OUTPUTS)}) {\n` +
      `  fs.mkdirSync(path.dirname(o), { recursive: true }); fs.writeFileSync(o, '')\n}\n`,
  )
  write(
    'package.json',
    JSON.stringify({ name: 'x', private: true, scripts: { build: 'node build.cjs' } }),
    1_000,
  )
  write('src-daemon/main.ts', '', 1_000)
  write('src-renderer/src/App.vue', '', 1_000)
  write('src-main/index.ts', '', 1_000)
  write('plugins/stores/fs/index.ts', '', 1_000)
})

it('builds when out/ is missing, saying so, and not again once built', () => {
  expect(run('--check').status).toBe(1)
  const first = run()
  expect(first.status, first.stderr).toBe(0)
  expect(first.stdout).toMatch(/^Building Bulwark \(out\/main\/daemon\.js is missing\)/)
  const second = run()
  expect(second.status).toBe(0)
  expect(second.stdout).toBe('')
  expect(run('--check').stdout).toBe('out/ is up to date\n')
})

it('builds again when a source is newer than the oldest output', () => {
  for (const o of OUTPUTS) write(o, '', 2_000)
  expect(run('--check').status).toBe(0)
  write('plugins/stores/fs/index.ts', '', 3_000)
  const check = run('--check')
  expect(check.status).toBe(1)
  expect(check.stdout).toBe('out/ is stale: plugins/stores/fs/index.ts is newer than out/\n')
  const built = run()
  expect(built.stdout).toContain('Building Bulwark (plugins/stores/fs/index.ts is newer than out/)')
  expect(run('--check').status).toBe(0)
})

it('a build that fails stops npm start with its status', () => {
  write('build.cjs', 'process.exit(3)\n')
  const r = run()
  expect(r.status).toBe(3)
  expect(r.stderr).toContain('Build failed')
})
