// Vault benchmark (prints only, asserts nothing about speed): our writer and
// reader on the fs store against restic on the same 512 MiB of mixed random
// and pg_dump-like data, in temp directories on the same disk. Measures the
// first backup, a second backup of the same data (restic --force, so it
// re-reads everything too) and a restore to a file, then the peak RSS of our
// writer backing up a 2 GiB generated stream. Our side runs in a plain Node
// child process (child.ts, bundled), as restic runs in its own.
// Run: npx vitest run --config test/bench/vitest.bench.config.ts
// Env: BENCH_MIB (default 512), BENCH_RSS_GIB (default 2, 0 skips), BENCH_TMP (default os tmpdir).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, test } from 'vitest'
import { defaultSealWorkers } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'

const MiB = 1024 * 1024
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SIZE = Number(process.env.BENCH_MIB ?? 512) * MiB
const RSS_BYTES = Number(process.env.BENCH_RSS_GIB ?? 2) * 1024 * MiB
const work = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'bulwark-bench-'))
/** Where child.ts is bundled: under node_modules, so that its imports (zstd-napi) resolve. */
const BUNDLE = join(ROOT, 'node_modules', '.cache', 'bulwark-bench')
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
  rmSync(BUNDLE, { recursive: true, force: true })
})

const fmtMiB = (n: number) => `${(n / MiB).toFixed(1)} MiB`
const rate = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`

function dirSize(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size
  }
  return total
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const part of createReadStream(file, { highWaterMark: 4 * MiB }))
    h.update(part as Buffer)
  return h.digest('hex')
}

interface Result {
  first: number // seconds
  second: number
  secondNew: number // bytes added to the store by the second backup
  stored: number // store size after the first backup
  restore: number
}

/** Bundles child.ts, once, with the vault's chunk worker beside it as the daemon's build has it. */
let bundled: Promise<string> | undefined
function childScript(): Promise<string> {
  const outDir = BUNDLE
  bundled ??= build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: {
        input: {
          child: join(ROOT, 'test/bench/child.ts'),
          'chunk-worker': join(ROOT, 'src-daemon/vault/chunk-worker.ts'),
        },
        output: { entryFileNames: '[name].js' },
      },
    },
  }).then(() => {
    writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
    return join(outDir, 'child.js')
  })
  return bundled
}

async function child<T>(...args: string[]): Promise<T> {
  const r = spawnSync(process.execPath, [await childScript(), ...args], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_TMP: work },
  })
  if (r.status !== 0) throw new Error(`the bench child failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T
}

async function ours(file: string, digest: string, sealWorkers: number): Promise<Result> {
  const r = await child<Result & { restored: string }>('run', file, String(sealWorkers))
  if ((await sha256(r.restored)) !== digest) throw new Error('our restore differs!')
  rmSync(r.restored)
  return r
}

/** restic's figures; start = the fixed cost of one restic command (key derivation, repository open). */
function restic(file: string): { result: Result; restored: string; start: number } | string {
  if (spawnSync('which', ['restic']).status !== 0) {
    return 'restic is not installed: apt-get install -y restic (Debian/Ubuntu), then run again'
  }
  const repo = join(work, 'restic-repo')
  const env = {
    ...process.env,
    RESTIC_PASSWORD: 'bench',
    RESTIC_REPOSITORY: repo,
    RESTIC_CACHE_DIR: join(work, 'restic-cache'),
  }
  const run = (...args: string[]): number => {
    const t = performance.now()
    const r = spawnSync('restic', args, { env, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`restic ${args.join(' ')} failed: ${r.stderr}`)
    return (performance.now() - t) / 1000
  }
  run('init', '-q')
  const start = Math.min(...[1, 2, 3].map(() => run('cat', 'config', '-q')))
  const first = run('backup', '-q', file)
  const stored = dirSize(repo)
  const second = run('backup', '-q', '--force', file)
  const secondNew = dirSize(repo) - stored
  const target = join(work, 'restic-restored')
  const restore = run('restore', 'latest', '-q', '--target', target)
  // restic restores the file under its absolute path inside the target.
  return {
    result: { first, second, secondNew, stored, restore },
    restored: join(target, resolve(file)),
    start,
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n')
}

test('vault vs restic', async () => {
  const file = join(work, 'data.bin')
  console.log(`generating ${fmtMiB(SIZE)} of mixed random and pg_dump-like data in ${work} …`)
  await pipeline(mixedStream(SIZE, 42), createWriteStream(file))
  const digest = await sha256(file) // also warms the page cache for both tools

  const nWorkers = defaultSealWorkers()
  const inline = await ours(file, digest, 0)
  const workers = await ours(file, digest, nWorkers)
  const r = restic(file)
  if (typeof r !== 'string' && (await sha256(r.restored)) !== digest) {
    throw new Error('restic restore differs!')
  }

  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—')
  const R = typeof r === 'string' ? null : r.result
  const start = typeof r === 'string' ? 0 : r.start
  const workersLabel = `ours (${nWorkers} worker${nWorkers === 1 ? '' : 's'})`
  const rows = [
    [
      'measure',
      workersLabel,
      'ours (inline)',
      'restic',
      'restic − start',
      'ours/restic',
      'ours/(restic − start)',
    ],
  ]
  const speed = (label: string, key: 'first' | 'second' | 'restore') =>
    rows.push([
      label,
      rate(SIZE, workers[key]),
      rate(SIZE, inline[key]),
      R ? rate(SIZE, R[key]) : '—',
      R ? rate(SIZE, R[key] - start) : '—',
      R ? ratio(R[key], workers[key]) : '—',
      R ? ratio(R[key] - start, workers[key]) : '—',
    ])
  const added = (n: number) => `${(n / 1024).toFixed(1)} KiB (${((100 * n) / SIZE).toFixed(4)}%)`
  speed('first backup', 'first')
  speed('second backup (restic --force)', 'second')
  rows.push([
    'second backup: bytes added',
    added(workers.secondNew),
    added(inline.secondNew),
    R ? added(R.secondNew) : '—',
    '',
    '',
    '',
  ])
  speed('restore to a file', 'restore')
  rows.push([
    'store size after first backup',
    fmtMiB(workers.stored),
    fmtMiB(inline.stored),
    R ? fmtMiB(R.stored) : '—',
    '',
    R ? ratio(workers.stored, R.stored) : '—',
    '',
  ])
  console.log(`\n${fmtMiB(SIZE)} input, fs store / local repository in ${work}`)
  console.log(table(rows))
  if (typeof r === 'string') console.log(`\nrestic half skipped: ${r}`)
  console.log(
    `Ours is timed inside its process (the daemon keeps the vault key unlocked); restic's ` +
      `times are whole commands, and "restic − start" subtracts one command's fixed cost ` +
      `(${start.toFixed(2)} s: key derivation, repository open; measured with restic cat config). ` +
      `Ratios: speed ours/restic; store size ours/restic.`,
  )

  if (RSS_BYTES > 0) {
    const rss = await child<{ vmhwm: number; baseline: number; seconds: number }>(
      'rss',
      String(RSS_BYTES),
    )
    console.log(
      `\npeak RSS of the writer backing up ${fmtMiB(RSS_BYTES)} generated: VmHWM ${fmtMiB(rss.vmhwm)} ` +
        `(process baseline ${fmtMiB(rss.baseline)}), ${rate(RSS_BYTES, rss.seconds)}`,
    )
  }
})
