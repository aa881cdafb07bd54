import { randomUUID } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
const MiB = 1024 * 1024
const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const nullStore: StorePlugin = {
  ...fsStore,
  head: async () => null,
  put: async (_e, key, data) => {
    let n = 0
    for await (const p of data) n += (p as Buffer).length
    await new Promise((r) => setImmediate(r))
    return { key, size: n }
  },
}
const file = process.argv[2]!
const size = statSync(file).size
const { config, master } = await initVault('x', { N: 1024 })
const w = Number(process.env.W ?? 0)
const dir = mkdtempSync('/tmp/scratch-st-')
const t = performance.now()
const c0 = process.cpuUsage()
await writeArchive({
  store: process.env.FS ? fsStore : nullStore,
  endpoint: { path: dir },
  concurrency: Number(process.env.C ?? 4),
  ctx: { signal: new AbortController().signal, log: () => {} },
  config,
  master,
  index: new MemoryChunkIndex(),
  source: createReadStream(file, { highWaterMark: MiB }),
  sealWorkers: w,
  level: process.env.L ? Number(process.env.L) : undefined,
  manifest: {
    version: 1,
    archive: randomUUID(),
    taken_at: new Date().toISOString(),
    expires_at: new Date().toISOString(),
    target: { uuid: 'a', name: 'b', plugin: 'c' },
    job: null,
    store: 'x',
    notes: '',
    tags: {},
  },
})
const secs = (performance.now() - t) / 1000
const cpu = process.cpuUsage(c0)
rmSync(dir, { recursive: true })
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]
console.log(
  `W=${w} ${process.env.FS ? 'fs' : 'null'} ${(size / MiB / secs).toFixed(0)} MiB/s cpu ${(((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(0)}% hwm ${(Number(hwm) / 1024).toFixed(0)}`,
)
