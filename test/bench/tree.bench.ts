// Directory backups as a user sees them: a `files` job and its restores run
// through the real, built daemon's API, timed from the request to the task's
// end, beside restic on the same tree in the same run. Three trees:
//
//   large   BENCH_TREE_LARGE_MIB (512) MiB in 64 MiB files of mixed data
//   small   BENCH_TREE_FILES (50,000) files of 100 B-16 KiB of dump-like text in 100 directories
//   home    a copy of /usr/share/doc, two 64 MiB files and 5,000 small files
//
// For each: first backup (vs `restic backup`), unchanged re-run (vs restic's
// re-run, without --force), re-run after changing 1% of the files (vs
// restic's), restore of the whole tree into an empty directory (vs `restic
// restore`), both restores compared with the tree by `diff -r`. On the small
// tree also: one file restored from the archive (target: under a second) and
// the daemon's peak RSS (VmHWM; a daemon per tree; target: under 300 MiB).
//
// Run (needs `npm run build` and restic):
//   BENCH_FILE=test/bench/tree.bench.ts npx vitest run --config test/bench/vitest.bench.config.ts
// Env: BENCH_RUNS (1), BENCH_TREES (large,small,home).
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { afterAll, test } from 'vitest'
import { startDaemon, tempDir } from '../helpers/daemon'
import { mixedStream, prng } from './gen'
import { created, median, ratio, table, taskSeconds, timed } from './through-daemon'

const MiB = 1024 * 1024
const RUNS = Number(process.env.BENCH_RUNS ?? 1)
const LARGE_MIB = Number(process.env.BENCH_TREE_LARGE_MIB ?? 512)
const FILES = Number(process.env.BENCH_TREE_FILES ?? 50_000)
const TREES = (process.env.BENCH_TREES ?? 'large,small,home').split(',')
const work = tempDir('bulwark-tree-bench-')
const cleanups: (() => Promise<void> | void)[] = []
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn()
  rmSync(work, { recursive: true, force: true })
})

const secs = (s: number) => `${s.toFixed(2)} s`

function sameTree(a: string, b: string): void {
  const diff = spawnSync('diff', ['-r', '--no-dereference', a, b], { encoding: 'utf8' })
  if (diff.status !== 0) throw new Error(`${b} differs from ${a}:\n${diff.stdout.slice(0, 2000)}`)
}

/** Dump-like text of `bytes` bytes from a seeded generator. */
function text(r: () => number, bytes: number): Buffer {
  const words = ['select', 'insert', 'orders', 'ana', 'müller', '42.50', 'paid', 'Kraków', '\n']
  const parts: string[] = []
  let n = 0
  while (n < bytes) {
    const w = words[Math.floor(r() * words.length)]! + ' '
    parts.push(w)
    n += Buffer.byteLength(w)
  }
  return Buffer.from(parts.join('')).subarray(0, bytes)
}

function smallFiles(dir: string, count: number, seed: number): string[] {
  const r = prng(seed)
  const files: string[] = []
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(i % 100).padStart(3, '0')}`)
    if (i < 100) mkdirSync(sub, { recursive: true })
    const file = join(sub, `f${i}.txt`)
    writeFileSync(file, text(r, 100 + Math.floor(r() ** 2 * 16 * 1024)))
    files.push(file)
  }
  return files
}

async function largeFiles(dir: string, mib: number, seed: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  for (let i = 0; i * 64 < mib; i++) {
    const file = join(dir, `big-${i}.bin`)
    await pipeline(mixedStream(Math.min(64, mib - i * 64) * MiB, seed + i), createWriteStream(file))
    files.push(file)
  }
  return files
}

/** Changes 1% of the files (at least one): a new first line, so sizes change too. */
function changeOnePercent(files: string[], round: number): void {
  const step = Math.max(1, Math.floor(files.length / Math.max(1, Math.round(files.length / 100))))
  for (let i = 0; i < files.length; i += step) {
    const old = readFileSync(files[i]!)
    writeFileSync(files[i]!, Buffer.concat([Buffer.from(`changed ${round} ${i}\n`), old]))
  }
}

interface Figures {
  first: number
  rerun: number
  changed: number
  restore: number
}

const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024

async function measureTree(
  name: string,
  tree: string,
  files: string[],
  n: number,
): Promise<{ ours: Figures; restic: Figures; single?: number; rss: number }> {
  const d = await startDaemon({ dataDir: join(work, `daemon-${name}-${n}`) })
  try {
    const store = await created(d, '/v1/stores', {
      name: 'bench',
      plugin: 'fs',
      endpoint: { path: join(work, `store-${name}-${n}`) },
    })
    const target = await created(d, '/v1/targets', {
      name: `tree-${name}`,
      plugin: 'files',
      endpoint: { path: tree },
    })
    const job = await created(d, '/v1/jobs', {
      name: `tree-${name}`,
      target,
      store,
      schedule: await created(d, '/v1/schedules', { name: 'bench', when: 'daily at 4am' }),
      retention: await created(d, '/v1/retention', { name: 'bench', expires: 7 * 86400 }),
      paused: true,
    })
    const e = {
      RESTIC_PASSWORD: 'bench',
      RESTIC_REPOSITORY: join(work, `restic-${name}-${n}`),
      RESTIC_CACHE_DIR: join(work, 'restic-cache'),
    }
    await timed('restic', ['init', '-q'], e)
    const restic = () => timed('restic', ['backup', '-q', tree], e)

    const first = await taskSeconds(d, `/v1/job/${job}/run`)
    const rFirst = await restic()
    const rerun = await taskSeconds(d, `/v1/job/${job}/run`)
    const rRerun = await restic()
    changeOnePercent(files, n)
    const changed = await taskSeconds(d, `/v1/job/${job}/run`)
    const rChanged = await restic()
    const archive = changed.task.archive_uuid as string

    const ourOut = join(work, `restored-${name}-${n}`)
    const restore = await taskSeconds(d, `/v1/archive/${archive}/restore`, { to: ourOut })
    sameTree(tree, ourOut)
    rmSync(ourOut, { recursive: true, force: true })
    const theirOut = join(work, `restic-restored-${name}-${n}`)
    const rRestore = await timed('restic', ['restore', '-q', 'latest', '--target', theirOut], e)
    sameTree(tree, join(theirOut, tree))
    rmSync(theirOut, { recursive: true, force: true })

    let single: number | undefined
    if (name === 'small') {
      const one = files[Math.floor(files.length / 2)]!.slice(tree.length + 1)
      const out = join(work, `single-${n}`)
      single = (await taskSeconds(d, `/v1/archive/${archive}/restore`, { paths: [one], to: out }))
        .seconds
      if (!readFileSync(join(out, one)).equals(readFileSync(join(tree, one))))
        throw new Error(`the single file ${one} differs`)
      rmSync(out, { recursive: true, force: true })
    }
    return {
      ours: {
        first: first.seconds,
        rerun: rerun.seconds,
        changed: changed.seconds,
        restore: restore.seconds,
      },
      restic: { first: rFirst, rerun: rRerun, changed: rChanged, restore: rRestore },
      single,
      rss: peakRss(d.pid),
    }
  } finally {
    await d.stop()
    rmSync(join(work, `store-${name}-${n}`), { recursive: true, force: true })
    rmSync(join(work, `restic-${name}-${n}`), { recursive: true, force: true })
  }
}

test('directory trees through the daemon, beside restic', async () => {
  if (spawnSync('which', ['restic']).status !== 0)
    throw new Error('restic is not installed (apt-get install restic)')
  const rows: string[][] = [
    [`tree: measure (median of ${RUNS})`, 'Bulwark', 'restic', 'ratio', 'target'],
  ]
  const trees: Record<string, () => Promise<string[]>> = {
    large: () => largeFiles(join(work, 'large'), LARGE_MIB, 7),
    small: async () => smallFiles(join(work, 'small'), FILES, 11),
    home: async () => {
      const home = join(work, 'home')
      mkdirSync(home)
      execFileSync('cp', ['-a', '/usr/share/doc', join(home, 'doc')])
      const docs = execFileSync('find', [join(home, 'doc'), '-type', 'f'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
      return [
        ...docs,
        ...(await largeFiles(join(home, 'media'), 128, 3)),
        ...smallFiles(join(home, 'notes'), 5000, 5),
      ]
    },
  }
  for (const name of TREES) {
    const make = trees[name]
    if (!make) throw new Error(`unknown tree ${name} (large, small, home)`)
    console.log(`making the ${name} tree …`)
    const files = await make()
    const tree = join(work, name)
    const bytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0])
    const label = `${name} (${files.length} files, ${(bytes / MiB).toFixed(0)} MiB)`
    const all: Awaited<ReturnType<typeof measureTree>>[] = []
    for (let n = 0; n < RUNS; n++) all.push(await measureTree(name, tree, files, n))
    for (const [key, what, goal] of [
      ['first', 'first backup', '≥ 1.5×'],
      ['rerun', 'unchanged re-run', '≥ 1.0×'],
      ['changed', 're-run after changing 1% of the files', '≥ 1.0×'],
      ['restore', 'restore of the whole tree', '≥ 1.2×'],
    ] as const) {
      const o = median(all.map((f) => f.ours[key]))
      const r = median(all.map((f) => f.restic[key]))
      rows.push([`${label}: ${what}`, secs(o), secs(r), ratio(o, r), goal])
    }
    if (name === 'small') {
      rows.push([
        `${label}: one file restored`,
        secs(median(all.map((f) => f.single!))),
        '',
        '',
        '< 1 s',
      ])
      rows.push([
        `${label}: daemon peak RSS`,
        `${(median(all.map((f) => f.rss)) / MiB).toFixed(0)} MiB`,
        '',
        '',
        '< 300 MiB',
      ])
    }
    rmSync(tree, { recursive: true, force: true })
  }
  console.log("\nBulwark timed from the API request to the task's end")
  console.log(table(rows))
  console.log("ratio: restic's time over Bulwark's (above 1: Bulwark is faster)")
})
