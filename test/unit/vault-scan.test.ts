// The scan import and rescan are built on (src-daemon/vault/import/scan.ts),
// against the real fs store plugin in a temp directory: it reads the store
// alone (no catalog) and finds every archive its key opens, the chunks each
// lacks, and the manifests it cannot open.
import { randomBytes, randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PluginContext, StorePlugin } from '../../plugins/sdk/types'
import fsStoreModule from '../../plugins/stores/fs/index'
import type { StoreHandle } from '../../src-daemon/vault/archives'
import { initVault, type VaultConfig } from '../../src-daemon/vault/config'
import { scanStore } from '../../src-daemon/vault/import/scan'
import type { MasterKey } from '../../src-daemon/vault/keys'
import { chunkKey, manifestKey } from '../../src-daemon/vault/objects'
import { readManifest } from '../../src-daemon/vault/reader'
import { MemoryChunkIndex, writeArchive } from '../../src-daemon/vault/writer'
import { tempDir } from '../helpers/daemon'

const fsStore = (fsStoreModule as { plugin: StorePlugin }).plugin
const ctx = (): PluginContext => ({ signal: new AbortController().signal, log: () => {} })

let config: VaultConfig
let master: MasterKey
let other: MasterKey
beforeAll(async () => {
  ;({ config, master } = await initVault('pw', { N: 1024 }))
  ;({ master: other } = await initVault('pw', { N: 1024 }))
})

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function newStore(): StoreHandle {
  const path = tempDir('bulwark-scan-')
  dirs.push(path)
  return { uuid: randomUUID(), plugin: fsStore, endpoint: { path }, vault: true }
}

async function write(store: StoreHandle, data: Buffer, takenAt: number) {
  const archive = randomUUID()
  const stats = await writeArchive({
    store: store.plugin,
    endpoint: store.endpoint,
    ctx: ctx(),
    config,
    master,
    index: new MemoryChunkIndex(),
    source: Readable.from([data]),
    manifest: {
      version: 1,
      archive,
      taken_at: new Date(takenAt).toISOString(),
      expires_at: new Date(takenAt + 86_400_000).toISOString(),
      target: { uuid: randomUUID(), name: 'db', plugin: 'postgres' },
      job: { uuid: randomUUID(), name: 'nightly' },
      store: store.uuid,
      notes: '',
      tags: {},
    },
  })
  return { archive, stats }
}

describe('scanStore', () => {
  it('finds every archive in taken order, with its chunks and stored bytes', async () => {
    const store = newStore()
    const later = await write(store, randomBytes(3 * 1024 * 1024), Date.UTC(2026, 0, 2))
    const earlier = await write(store, randomBytes(1024 * 1024), Date.UTC(2026, 0, 1))
    const scan = await scanStore(store, master, ctx())
    expect(scan.archives.map((a) => a.uuid)).toEqual([earlier.archive, later.archive])
    expect(scan.damaged).toEqual([])
    const [a] = scan.archives
    expect(a).toMatchObject({
      format: 'vault',
      size: 1024 * 1024,
      chunkCount: earlier.stats.chunks,
      storedBytes: earlier.stats.storedBytes,
      missing: 0,
      takenAt: Date.UTC(2026, 0, 1),
      job: { name: 'nightly' },
    })
    // Every chunk object in the store, with its stored size.
    const total = [...scan.chunks.values()].reduce((n, s) => n + s, 0)
    expect(total).toBe(earlier.stats.storedBytes + later.stats.storedBytes)
  })

  it('counts the chunks an archive lacks, and names manifests it cannot open', async () => {
    const store = newStore()
    const { archive } = await write(store, randomBytes(2 * 1024 * 1024), Date.now())
    const m = await readManifest({
      store: fsStore,
      endpoint: store.endpoint,
      ctx: ctx(),
      master,
      archiveUuid: archive,
    })
    await fsStore.delete(store.endpoint, chunkKey(m.chunks[0]![0]), ctx())
    const garbled = randomUUID()
    await fsStore.put(
      store.endpoint,
      manifestKey(garbled),
      Readable.from([randomBytes(200)]),
      ctx(),
    )

    const scan = await scanStore(store, master, ctx())
    expect(scan.archives).toHaveLength(1)
    expect(scan.archives[0]).toMatchObject({ uuid: archive, missing: 1 })
    expect(scan.damaged.map((d) => d.uuid)).toEqual([garbled])
    expect(scan.damaged[0]!.message).toContain(garbled)
  })

  it('opens nothing with another vault key: every manifest is damaged to it', async () => {
    const store = newStore()
    const { archive } = await write(store, randomBytes(512 * 1024), Date.now())
    const scan = await scanStore(store, other, ctx())
    expect(scan.archives).toEqual([])
    expect(scan.damaged.map((d) => d.uuid)).toEqual([archive])
  })
})
