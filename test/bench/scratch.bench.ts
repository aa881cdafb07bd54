import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { test } from 'vitest'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'
const MiB = 1024 * 1024
const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const nullStore: StorePlugin = {
  ...fsStore,
  head: async () => null,
  put: async (_e, key, data) => {
    let n = 0
    for await (const p of data) n += (p as Buffer).length
    return { key, size: n }
  },
}
test('scratch', async () => {
  const work = mkdtempSync('/tmp/scratch-bench-')
  const file = join(work, 'data')
  const SIZE = Number(process.env.S ?? 256) * MiB
  await pipeline(mixedStream(SIZE, 42), createWriteStream(file))
  const { config, master } = await initVault('x', { N: 1024 })
  for (const storeName of (process.env.STORES ?? 'null,fs').split(','))
    for (const w of [0, 1, 2])
      for (const c of [4, 8]) {
        const dir = mkdtempSync(join(work, 's'))
        const t = performance.now()
        await writeArchive({
          store: storeName === 'null' ? nullStore : fsStore,
          endpoint: { path: dir },
          ctx: { signal: new AbortController().signal, log: () => {} },
          config,
          master,
          index: new MemoryChunkIndex(),
          source: createReadStream(file, { highWaterMark: MiB }),
          sealWorkers: w,
          concurrency: c,
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
        const s = (performance.now() - t) / 1000
        console.log(
          storeName,
          'workers',
          w,
          'conc',
          c,
          (SIZE / MiB / s).toFixed(0),
          'MiB/s',
          'rss',
          (process.memoryUsage().rss / MiB).toFixed(0),
        )
        rmSync(dir, { recursive: true })
      }
  rmSync(work, { recursive: true })
}, 600000)
