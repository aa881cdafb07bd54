#!/usr/bin/env node
// `npm start` runs this first: it builds (electron-vite) only when out/ is
// missing or older than the sources, so a second start takes no build time.
// Usage: node scripts/build-if-stale.js [--check]   (--check: only say, exit 1 when stale)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const SOURCES = [
  'src-daemon',
  'src-renderer',
  'src-main',
  'plugins',
  'package.json',
  'package-lock.json',
  'electron.vite.config.ts',
]
const OUTPUTS = [
  'out/main/daemon.js',
  'out/main/cli.js',
  'out/main/index.js',
  'out/preload/index.cjs',
  'out/renderer/index.html',
]
const SKIP = new Set(['node_modules', '.git'])

/** The newest file under path (a file or a directory), as [mtimeMs, path]. */
function newest(path) {
  let best = [0, path]
  let st
  try {
    st = statSync(path)
  } catch {
    return best
  }
  if (!st.isDirectory()) return [st.mtimeMs, path]
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue
    const found = newest(join(path, entry.name))
    if (found[0] > best[0]) best = found
  }
  return best
}

function staleReason() {
  let oldestOut = Infinity
  for (const out of OUTPUTS) {
    let st
    try {
      st = statSync(join(root, out))
    } catch {
      return `${out} is missing`
    }
    oldestOut = Math.min(oldestOut, st.mtimeMs)
  }
  for (const src of SOURCES) {
    const [mtime, path] = newest(join(root, src))
    if (mtime > oldestOut) return `${relative(root, path)} is newer than out/`
  }
  return null
}

const reason = staleReason()
if (process.argv.includes('--check')) {
  process.stdout.write(reason ? `out/ is stale: ${reason}\n` : 'out/ is up to date\n')
  process.exit(reason ? 1 : 0)
}
if (!reason) process.exit(0)
process.stdout.write(`Building Bulwark (${reason}): npm run build, about 6 s…\n`)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const built = spawnSync(npm, ['run', '--silent', 'build', '--', '--logLevel', 'warn'], {
  cwd: root,
  stdio: 'inherit',
})
if (built.status !== 0) {
  process.stderr.write('Build failed: see above.\n')
  process.exit(built.status ?? 1)
}
