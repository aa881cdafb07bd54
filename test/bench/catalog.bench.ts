// The catalog and the vault after years of use, through the built daemon's
// API, timed as a client sees it:
//
//   GET /v1/archives, one page of 50 (and the next page by its cursor), with
//     BENCH_ARCHIVES archives and BENCH_CHUNKS chunks in the index: p50, p99
//   the requests the dashboard makes when it loads, all at once: p50, p99
//   retention: BENCH_PURGE archives expired at once, from the daemon's start
//     to the last one purged, and the API's page latency meanwhile
//   GC of a store holding BENCH_GC_CHUNKS unreferenced chunk objects: task
//     time (request to end) and the daemon's peak RSS
//   disaster recovery: `POST /v1/stores/import` of a store holding
//     BENCH_IMPORT archives into an empty daemon, beside the time to read
//     every manifest file of that store
//
// The catalog is seeded beside one real archive (its row and manifest copied
// under new uuids), since making 10,000 archives through jobs would take
// hours; everything measured runs in the daemon as in production.
//
//   npm run build && BENCH_FILE=test/bench/catalog.bench.ts npx vitest run --config test/bench/vitest.bench.config.ts
// Env: BENCH_ARCHIVES (10000), BENCH_CHUNKS (1000000), BENCH_PURGE (1000),
// BENCH_GC_CHUNKS (1000000; 0 skips), BENCH_IMPORT (1000; 0 skips).
import Database from 'better-sqlite3'
import { randomBytes, randomUUID } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, test } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { created, table, taskSeconds } from './through-daemon'

const ARCHIVES = Number(process.env.BENCH_ARCHIVES ?? 10_000)
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 1_000_000)
const PURGE = Number(process.env.BENCH_PURGE ?? 1_000)
const GC_CHUNKS = Number(process.env.BENCH_GC_CHUNKS ?? 1_000_000)
const IMPORT = Number(process.env.BENCH_IMPORT ?? 1_000)
const work = tempDir('bulwark-catalog-bench-')
const daemons: RunningDaemon[] = []
afterAll(async () => {
  for (const d of daemons) await d.stop()
  rmSync(work, { recursive: true, force: true })
})

const DAY = 86_400
const PASSWORD = 'catalog-bench-vault-password'
const ms = (x: number) => `${x.toFixed(1)} ms`
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!

async function start(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningDaemon> {
  const d = await startDaemon({ dataDir, env: { BULWARK_LOG_LEVEL: 'info', ...env } })
  daemons.push(d)
  return d
}
async function stop(d: RunningDaemon): Promise<void> {
  await d.stop()
  daemons.splice(daemons.indexOf(d), 1)
}

/** Milliseconds of one authenticated GET, with the answer's headers. */
async function get(d: RunningDaemon, path: string): Promise<{ ms: number; headers: Headers }> {
  const t = performance.now()
  const res = await fetch(d.url + path, { headers: { authorization: `Bearer ${d.token}` } })
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`)
  return { ms: performance.now() - t, headers: res.headers }
}

/** One store, tiny exec target and job, and `n` real archives made by running it. */
async function realArchives(d: RunningDaemon, name: string, storeDir: string, n: number) {
  const store = await created(d, '/v1/stores', {
    name,
    plugin: 'fs',
    endpoint: { path: storeDir, vault_password: PASSWORD },
  })
  const target = await created(d, '/v1/targets', {
    name,
    plugin: 'exec',
    endpoint: { backup_command: 'head -c 4096 /dev/urandom', restore_command: 'cat >/dev/null' },
  })
  const job = await created(d, '/v1/jobs', {
    name,
    target,
    store,
    schedule: await created(d, '/v1/schedules', { name, when: 'daily at 4am' }),
    retention: await created(d, '/v1/retention', { name, expires: 3650 * DAY }),
    paused: true,
  })
  const archives: string[] = []
  for (let i = 0; i < n; i++)
    archives.push((await taskSeconds(d, `/v1/job/${job}/run`)).task.archive_uuid)
  return { store, job, archives }
}

/**
 * Copies of the archive's catalog row (and its manifest object, so a purge has
 * something to remove) under new uuids, one an hour back in time, the oldest
 * `expired` already past their expiry; and `chunks` index rows for the store.
 */
function seed(dataDir: string, storeDir: string, archive: string, expired: number) {
  const db = new Database(join(dataDir, 'catalog.db'))
  const row = db.prepare('SELECT * FROM archives WHERE uuid = ?').get(archive) as Record<
    string,
    unknown
  >
  const manifest = join(storeDir, String(row.store_key))
  const cols = Object.keys(row)
  const insert = db.prepare(
    `INSERT INTO archives (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
  )
  const now = Math.floor(Date.now() / 1000)
  db.transaction(() => {
    for (let i = 1; i < ARCHIVES; i++) {
      const uuid = randomUUID()
      const old = i > ARCHIVES - 1 - expired
      const key = String(row.store_key).replace(archive, uuid)
      if (old) copyFileSync(manifest, join(storeDir, key))
      insert.run({
        ...row,
        uuid,
        store_key: key,
        taken_at: now - i * 3600,
        expires_at: old ? now - DAY : now + 3650 * DAY,
      })
    }
  })()
  const chunk = db.prepare(
    'INSERT OR IGNORE INTO vault_chunks (store_uuid, id, stored_size, created_at) VALUES (?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (let i = 0; i < CHUNKS; i++)
      chunk.run(row.store_uuid, randomBytes(32).toString('hex'), 1 << 20, now)
  })()
  db.close()
}

/** `count` GETs of `path` one after another: p50 and p99 in ms. */
async function latency(d: RunningDaemon, path: string, count: number) {
  const times: number[] = []
  for (let i = 0; i < count; i++) times.push((await get(d, path)).ms)
  return { p50: pct(times, 50), p99: pct(times, 99) }
}

/** What the dashboard asks for when it loads (src-renderer's useDashboard), at once. */
async function dashboardLoad(d: RunningDaemon, stores: string[]): Promise<number> {
  const t = performance.now()
  await Promise.all([
    get(d, '/v1/status'),
    get(d, '/v1/jobs'),
    get(d, '/v1/archives'),
    get(d, '/v1/stores'),
    get(d, '/v1/targets'),
    get(d, '/v1/tasks?status=done&type=backup&limit=30'),
    get(d, '/v1/archives?limit=30'),
    ...stores.map((s) => get(d, `/v1/store/${s}/vault`)),
    ...stores.map((s) => get(d, `/v1/archives?store=${s}`)),
  ])
  return performance.now() - t
}

const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

test('catalog and vault at scale', async () => {
  const rows: string[][] = [['measure', 'figure', 'target']]
  // Each figure is printed as it comes, so a run cut short still tells what it measured.
  const push = rows.push.bind(rows)
  rows.push = (...r: string[][]) => {
    for (const x of r) console.info(`catalog bench: ${x.join(' | ')}`)
    return push(...r)
  }
  const dataDir = join(work, 'data')
  const storeDir = join(work, 'store')
  mkdirSync(dataDir)

  // BULWARK_WORKERS=0 while seeding and reading: the purge waits for its turn.
  let d = await start(dataDir)
  const { store, archives } = await realArchives(d, 'scale', storeDir, 1)
  await stop(d)
  seed(dataDir, storeDir, archives[0]!, PURGE)
  d = await start(dataDir, { BULWARK_WORKERS: '0' })

  const first = await latency(d, '/v1/archives?limit=50', 300)
  rows.push([
    `GET /v1/archives?limit=50 (${ARCHIVES} archives, ${CHUNKS} chunks)`,
    `p50 ${ms(first.p50)}, p99 ${ms(first.p99)}`,
    'p99 < 50 ms',
  ])
  const next = (await get(d, '/v1/archives?limit=50')).headers.get('x-next-cursor')
  if (next) {
    const second = await latency(d, `/v1/archives?limit=50&cursor=${encodeURIComponent(next)}`, 300)
    rows.push(['… its next page', `p50 ${ms(second.p50)}, p99 ${ms(second.p99)}`, 'p99 < 50 ms'])
  } else rows.push(['… its next page', 'no X-Next-Cursor: the list is not paged', ''])
  const whole = await latency(d, '/v1/archives', 5)
  rows.push(['GET /v1/archives, unpaged', `median ${ms(whole.p50)}`, ''])
  const loads: number[] = []
  for (let i = 0; i < 10; i++) loads.push(await dashboardLoad(d, [store]))
  rows.push([
    'dashboard load (its requests at once)',
    `p50 ${ms(pct(loads, 50))}, p99 ${ms(pct(loads, 99))}`,
    '< 1 s',
  ])
  await stop(d)

  // The purge: every expired archive, from the start that finds them to the last purged.
  const t = performance.now()
  d = await start(dataDir)
  const during: number[] = []
  for (;;) {
    during.push((await get(d, '/v1/archives?limit=50')).ms)
    const left = (await d.api('GET', '/v1/archives?status=expired')).body as unknown[]
    if (left.length === 0) break
  }
  const purgeSeconds = (performance.now() - t) / 1000
  rows.push([
    `retention purge of ${PURGE} expired archives (start → last purged)`,
    `${purgeSeconds.toFixed(1)} s`,
    'one pass',
  ])
  rows.push([
    '… GET /v1/archives?limit=50 meanwhile',
    `p50 ${ms(pct(during, 50))}, p99 ${ms(pct(during, 99))}`,
    'not blocked',
  ])
  await stop(d)

  if (GC_CHUNKS > 0) {
    // Unreferenced chunk objects, as a store holds after years of purges.
    for (let s = 0; s < 256; s++)
      mkdirSync(join(storeDir, 'chunks', s.toString(16).padStart(2, '0')), { recursive: true })
    for (let i = 0; i < GC_CHUNKS; i++) {
      const id = randomBytes(32).toString('hex')
      writeFileSync(join(storeDir, 'chunks', id.slice(0, 2), id), randomBytes(64))
    }
    d = await start(dataDir, { BULWARK_GC_GRACE_HOURS: '0' })
    // The first pass learns the unreferenced chunks (their grace starts); the
    // second deletes them.
    for (const pass of ['learns', 'deletes']) {
      const gc = await taskSeconds(d, `/v1/store/${store}/gc`, {})
      rows.push([
        `GC of a store with ${GC_CHUNKS} unreferenced chunks: the pass that ${pass} them`,
        `${gc.seconds.toFixed(1)} s, daemon peak RSS ${peakRss(d.pid).toFixed(0)} MiB`,
        'minutes, bounded memory',
      ])
    }
    const left = readdirSync(join(storeDir, 'chunks'), { recursive: true }).length - 256
    rows.push(['… chunk objects left after GC (the live archive holds 1)', String(left), '1'])
    await stop(d)
  }

  if (IMPORT > 0) {
    const source = join(work, 'import-store')
    d = await start(join(work, 'import-source'))
    await realArchives(d, 'import', source, IMPORT)
    await stop(d)
    const r = performance.now()
    let bytes = 0
    for (const f of readdirSync(join(source, 'manifests'), {
      recursive: true,
      withFileTypes: true,
    }))
      if (f.isFile()) bytes += readFileSync(join(f.parentPath, f.name)).length
    const readMs = performance.now() - r
    const fresh = await start(join(work, 'import-target'))
    const i = performance.now()
    const res = await fresh.api('POST', '/v1/stores/import', {
      name: 'recovered',
      plugin: 'fs',
      endpoint: { path: source, vault_password: PASSWORD },
    })
    const importSeconds = (performance.now() - i) / 1000
    if (res.status !== 200) throw new Error(`import: ${JSON.stringify(res.body)}`)
    rows.push([
      `import of a store with ${IMPORT} archives (disaster recovery)`,
      `${importSeconds.toFixed(1)} s (reading its ${(bytes / 1024).toFixed(0)} KiB of manifests alone: ${ms(readMs)})`,
      '< 10 s + reading',
    ])
  }

  console.info(`\nCatalog and vault at scale\n\n${table(rows)}\n`)
})
