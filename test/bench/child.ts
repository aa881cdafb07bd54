// The half of vault.bench.ts that runs our code, in a plain Node process
// (bundled to JavaScript first): as restic runs in a process of its own, and
// so that neither vitest's overhead nor its memory is counted. Prints one
// JSON line.
//   child.js run <file> <sealWorkers>   first backup, second backup, restore to a file
//   child.js rss <bytes>                backs up a generated stream; peak RSS (VmHWM)
import { randomUUID } from 'node:crypto'
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import { initVault } from '../../src-daemon/vault/config'
import { readArchive } from '../../src-daemon/vault/reader'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { mixedStream } from './gen'

const MiB = 1024 * 1024
const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const ctx = { signal: new AbortController().signal, log: () => {} }
const work = process.env.BENCH_TMP!

const kib = (field: string) => {
  const status = readFileSync('/proc/self/status', 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return m ? Number(m[1]) * 1024 : NaN
}

function dirSize(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size
  }
  return total
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now()
  const out = await fn()
  return [out, (performance.now() - t) / 1000]
}

const { config, master } = await initVault('bench', { N: 1024 })
const dir = mkdtempSync(join(work, 'vault-'))
const endpoint = { path: dir }
const index = new MemoryChunkIndex()
const backup = (source: Readable, sealWorkers?: number) =>
  writeArchive({
    store: fsStore,
    endpoint,
    ctx,
    config,
    master,
    index,
    source,
    sealWorkers,
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

try {
  if (process.argv[2] === 'rss') {
    const total = Number(process.argv[3])
    const baseline = kib('VmRSS')
    const [, seconds] = await timed(() => backup(mixedStream(total, 7)))
    console.log(JSON.stringify({ vmhwm: kib('VmHWM'), baseline, seconds }))
  } else {
    const [file, workers] = [process.argv[3]!, Number(process.argv[4])]
    const source = () => createReadStream(file, { highWaterMark: MiB })
    const [, first] = await timed(() => backup(source(), workers))
    const stored = dirSize(dir)
    const [second, secondTime] = await timed(() => backup(source(), workers))
    const secondNew = dirSize(dir) - stored // as measured for restic; equals second.newBytes
    const restored = join(work, `restored-${workers}`)
    const [, restore] = await timed(async () => {
      const archiveUuid = second.manifestKey.slice('manifests/'.length)
      const { stream } = await readArchive({ store: fsStore, endpoint, ctx, master, archiveUuid })
      await pipeline(stream, createWriteStream(restored))
    })
    console.log(JSON.stringify({ first, second: secondTime, secondNew, stored, restore, restored }))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
