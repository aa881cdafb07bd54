// Deduplication of PostgreSQL dumps through the vault: a database is backed
// up, 1% of its rows are changed, and it is backed up again; prints what the
// second archive added as a share of the first's stored bytes. Two ways to
// change 1%: a contiguous id range (recent rows, as an orders table sees) and
// rows scattered evenly over the table. Prints only; asserts nothing.
// Run: BENCH_FILE=test/bench/pg-dedup.bench.ts npx vitest run --config test/bench/vitest.bench.config.ts
// Env: BENCH_PG_ROWS (default 400000).
import { execFileSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, test } from 'vitest'
import type { StorePlugin, TargetPlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import pgModule from '../../plugins/targets/postgres/index'
import { initVault } from '../../src-daemon/vault/config'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'

const rows = Number(process.env.BENCH_PG_ROWS ?? 400_000)
const db = `bulwark_bench_${randomBytes(4).toString('hex')}`
const dir = mkdtempSync(join(tmpdir(), 'bulwark-pgdedup-'))
const psql = (sql: string, database = db) =>
  execFileSync(
    'psql',
    [
      '-h',
      '127.0.0.1',
      '-U',
      'postgres',
      '-d',
      database,
      '-XAtq',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      sql,
    ],
    {
      encoding: 'utf8',
    },
  ).trim()

afterAll(() => {
  psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres')
  rmSync(dir, { recursive: true, force: true })
})

test('pg dump deduplication', async () => {
  const store = (fsStoreModule as { plugin: StorePlugin }).plugin
  const pg = (pgModule as { plugin: TargetPlugin }).plugin
  const ctx = { signal: new AbortController().signal, log: () => undefined }
  const avgKiB = Number(process.env.BENCH_CHUNK_AVG_KIB ?? 0)
  const chunking = avgKiB
    ? { min: (avgKiB * 1024) / 4, avg: avgKiB * 1024, max: avgKiB * 4096 }
    : undefined
  const { config, master } = await initVault('bench password', { N: 1024, chunking })
  const mib = (n: number) => (n / 1048576).toFixed(1)

  async function backup(label: string, endpoint: Record<string, unknown>, index: MemoryChunkIndex) {
    const stats = await writeArchive({
      store,
      endpoint,
      ctx,
      config,
      master,
      index,
      source: await pg.backup({ database: db }, ctx),
      manifest: {
        version: 1,
        archive: randomUUID(),
        taken_at: new Date().toISOString(),
        expires_at: new Date(Date.now() + 86400_000).toISOString(),
        target: { uuid: randomUUID(), name: db, plugin: 'postgres' },
        job: null,
        store: randomUUID(),
        notes: '',
        tags: {},
      },
    })
    console.log(
      `  ${label.padEnd(28)} dump ${mib(stats.size)} MiB, stored new ${mib(stats.newBytes)} MiB in ${stats.newChunks}/${stats.chunks} chunks`,
    )
    return stats
  }

  const results: string[] = []
  for (const [name, change] of [
    [
      'contiguous 1% (id range)',
      `UPDATE orders SET total = total + 1, note = note || '!' WHERE id <= ${rows / 100}`,
    ],
    [
      'scattered 1% (every 100th)',
      `UPDATE orders SET total = total + 1, note = note || '!' WHERE id % 100 = 0`,
    ],
  ] as const) {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres')
    psql(`CREATE DATABASE ${db}`, 'postgres')
    psql(
      `CREATE TABLE orders (id int PRIMARY KEY, customer int, total numeric(12,2), note text, created timestamptz);
       INSERT INTO orders SELECT g, g % 9973, (g::bigint * 7919 % 100000) / 100.0, 'order ' || md5(g::text), now() - g * interval '1 minute'
       FROM generate_series(1, ${rows}) g;`,
    )
    const endpoint = { path: join(dir, name.replace(/\W+/g, '-')) }
    const index = new MemoryChunkIndex()
    console.log(`${name}: ${rows} rows`)
    const first = await backup('first backup', endpoint, index)
    psql(change)
    const second = await backup('after changing 1% of rows', endpoint, index)
    const share = (100 * second.newBytes) / first.newBytes
    results.push(
      `${name.padEnd(28)} second archive added ${share.toFixed(1)}% of the first's stored bytes (target < 10%)`,
    )
  }
  console.log('\n' + results.join('\n'))
})
