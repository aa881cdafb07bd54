// Vault benchmark (prints only, asserts nothing about speed): our writer and
// reader on the fs store against restic on the same 512 MiB of mixed random
// and pg_dump-like data, in temp directories on the same disk. Measures the
// first backup, a second backup of the same data (restic --force, so it
// re-reads everything too) and a restore to a file, then the peak RSS of our
// writer backing up a 2 GiB generated stream in a child process (the writer
// bundled to plain JavaScript so vitest's own memory is not counted).
// Run: npx vitest run --config test/bench/vitest.bench.config.ts
// Env: BENCH_MIB (default 512), BENCH_RSS_GIB (default 2, 0 skips), BENCH_TMP (default os tmpdir).
import { spawnSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, test } from 'vitest'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { readArchive } from '../../src-daemon/vault/reader'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'

const MiB = 1024 * 1024
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SIZE = Number(process.env.BENCH_MIB ?? 512) * MiB
const RSS_BYTES = Number(process.env.BENCH_RSS_GIB ?? 2) * 1024 * MiB
const work = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'bulwark-bench-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const ctx = { signal: new AbortController().signal, log: () => {} }
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

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now()
  const out = await fn()
  return [out, (performance.now() - t) / 1000]
}

interface Result {
  first: number // seconds
  second: number
  secondNew: number // bytes added to the store by the second backup
  stored: number // store size after the first backup
  restore: number
}

async function ours(file: string, sealWorkers: number): Promise<Result> {
  const dir = mkdtempSync(join(work, 'vault-'))
  const endpoint = { path: dir }
  const { config, master } = await initVault('bench', { N: 1024 })
  const index = new MemoryChunkIndex()
  const backup = () =>
    writeArchive({
      store: fsStore,
      endpoint,
      ctx,
      config,
      master,
      index,
      sealWorkers,
      source: createReadStream(file, { highWaterMark: MiB }),
      manifest: {
        version: 1,
        archive: randomUUID(),
        taken_at: new Date().toISOString(),
        expires_at: new Date().toISOString(),
        target: { uuid: randomUUID(), name: 'bench', plugin: 'bench' },
        job: null,
        store: randomUUID(),
        notes: '',
        tags: {},
      },
    })
  const [, first] = await timed(backup)
  const stored = dirSize(dir)
  const [second, secondTime] = await timed(backup)
  const out = join(work, 'ours.restored')
  const [, restore] = await timed(async () => {
    const { stream } = await readArchive({
      store: fsStore,
      endpoint,
      ctx,
      master,
      archiveUuid: second.manifestKey.slice('manifests/'.length),
    })
    await pipeline(stream, createWriteStream(out))
  })
  if ((await sha256(out)) !== (await sha256(file))) throw new Error('our restore differs!')
  rmSync(out)
  rmSync(dir, { recursive: true, force: true })
  return { first, second: secondTime, secondNew: second.newBytes, stored, restore }
}

function restic(file: string): { result: Result; restored: string } | string {
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
  }
}

/** Bundles rss-child.ts to one .mjs next to node_modules (so zstd-napi resolves) and runs it. */
async function peakRss(
  bytes: number,
): Promise<{ vmhwm: number; baseline: number; seconds: number }> {
  const outDir = join(ROOT, 'node_modules', '.cache', 'bulwark-bench')
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      ssr: join(ROOT, 'test/bench/rss-child.ts'),
      outDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { entryFileNames: 'rss-child.mjs' } },
    },
  })
  const r = spawnSync(process.execPath, [join(outDir, 'rss-child.mjs'), String(bytes)], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_TMP: work },
  })
  if (r.status !== 0) throw new Error(`the RSS child failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
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

  const inline = await ours(file, 0)
  const workers = await ours(file, 2)
  const r = restic(file)
  if (typeof r !== 'string' && (await sha256(r.restored)) !== digest) {
    throw new Error('restic restore differs!')
  }

  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—')
  const R = typeof r === 'string' ? null : r.result
  const rows = [['measure', 'ours (2 seal workers)', 'ours (inline seal)', 'restic', 'ours/restic']]
  const speed = (label: string, key: 'first' | 'second' | 'restore') =>
    rows.push([
      label,
      rate(SIZE, workers[key]),
      rate(SIZE, inline[key]),
      R ? rate(SIZE, R[key]) : '—',
      R ? ratio(R[key], workers[key]) : '—',
    ])
  speed('first backup', 'first')
  speed('second backup (restic --force)', 'second')
  rows.push([
    'second backup: new bytes stored',
    `${fmtMiB(workers.secondNew)} (${((100 * workers.secondNew) / SIZE).toFixed(3)}%)`,
    fmtMiB(inline.secondNew),
    R ? `${fmtMiB(R.secondNew)} (${((100 * R.secondNew) / SIZE).toFixed(3)}%)` : '—',
    R ? ratio(workers.secondNew, R.secondNew) : '—',
  ])
  speed('restore to a file', 'restore')
  rows.push([
    'store size after first backup',
    fmtMiB(workers.stored),
    fmtMiB(inline.stored),
    R ? fmtMiB(R.stored) : '—',
    R ? ratio(workers.stored, R.stored) : '—',
  ])
  console.log(`\n${fmtMiB(SIZE)} input; wall-clock times (restic's include its process start)`)
  console.log(table(rows))
  if (typeof r === 'string') console.log(`\nrestic half skipped: ${r}`)
  console.log('(throughput ratios are ours/restic speed; bytes and sizes are ours/restic amounts)')

  if (RSS_BYTES > 0) {
    const rss = await peakRss(RSS_BYTES)
    console.log(
      `\npeak RSS of the writer backing up ${fmtMiB(RSS_BYTES)} generated: VmHWM ${fmtMiB(rss.vmhwm)} ` +
        `(process baseline ${fmtMiB(rss.baseline)}), ${rate(RSS_BYTES, rss.seconds)}`,
    )
  }
})
