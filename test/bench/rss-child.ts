// Run in a child process by vault.bench.ts (bundled to plain JavaScript
// first, so the figure is the writer's and not vitest's): backs up a
// generated stream of argv[2] bytes into a fresh fs-store vault in a temp
// directory and prints one JSON line with the peak RSS (VmHWM) and the time.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'

const kib = (field: string) => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  )
  return m ? Number(m[1]) * 1024 : NaN
}

const total = Number(process.argv[2] ?? 2 * 1024 ** 3)
const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'bulwark-rss-'))
try {
  const { config, master } = await initVault('bench', { N: 1024 })
  const baseline = kib('VmRSS')
  const started = performance.now()
  const stats = await writeArchive({
    store: (fsStoreModule as { plugin: StorePlugin }).plugin,
    endpoint: { path: dir },
    ctx: { signal: new AbortController().signal, log: () => {} },
    config,
    master,
    index: new MemoryChunkIndex(),
    source: mixedStream(total, 7),
    sealWorkers: process.env.BENCH_SEAL_WORKERS
      ? Number(process.env.BENCH_SEAL_WORKERS)
      : undefined,
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
  const seconds = (performance.now() - started) / 1000
  const out = { vmhwm: kib('VmHWM'), baseline, seconds, size: stats.size, stored: stats.newBytes }
  process.stdout.write(`${JSON.stringify(out)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
