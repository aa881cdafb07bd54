import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'
const MiB = 1024 * 1024
const dir = mkdtempSync('/tmp/scratch-mem-')
const { config, master } = await initVault('bench', { N: 1024 })
let peak = { rss: 0 } as NodeJS.MemoryUsage
const timer = setInterval(() => {
  const m = process.memoryUsage()
  if (m.rss > peak.rss) peak = m
}, 5)
const nullStore: StorePlugin = {
  ...(fsStoreModule as { plugin: StorePlugin }).plugin,
  head: async () => null,
  put: async (_e, key, data) => {
    let n = 0
    for await (const p of data) n += (p as Buffer).length
    return { key, size: n }
  },
}
const store = process.env.NULL ? nullStore : (fsStoreModule as { plugin: StorePlugin }).plugin
const src =
  process.env.SRC === 'zero'
    ? (await import('node:stream')).Readable.from(
        (function* () {
          for (let i = 0; i < 512; i++) yield Buffer.alloc(MiB, i)
        })(),
      )
    : mixedStream(512 * MiB, 7)
await writeArchive({
  store,
  endpoint: { path: dir },
  ctx: { signal: new AbortController().signal, log: () => {} },
  config,
  master,
  index: new MemoryChunkIndex(),
  source: src,
  sealWorkers: Number(process.env.W ?? 0),
  concurrency: Number(process.env.C ?? 4),
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
clearInterval(timer)
const f = (n: number) => (n / MiB).toFixed(0)
console.log(
  `peak rss ${f(peak.rss)} heapTotal ${f(peak.heapTotal)} heapUsed ${f(peak.heapUsed)} external ${f(peak.external)} arrayBuffers ${f(peak.arrayBuffers)}`,
)
rmSync(dir, { recursive: true })
