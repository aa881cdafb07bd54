// The daemon over a store plugin that fails one call in five, transiently:
// before the call reaches the plugin, or (for a get) partway through the
// object's stream. The registry wraps it like every store (retry with backoff,
// connection limit), the reader fetches an object again when its stream breaks,
// so backups, restores, verifies and a GC running at once all succeed, and
// every restore is byte for byte what was backed up.
import { writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import fsManifest from '../../plugins/stores/fs/manifest.json'
import fsModule from '../../plugins/stores/fs/index'
import type { PluginManifest } from '../../plugins/sdk/manifest'
import type { StorePlugin } from '../../plugins/sdk/types'
import { fromManifest } from '../../src-daemon/plugin-host/registry'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { faultyStore, type FaultyStore } from '../helpers/faulty-store'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'
import { VaultBench, randomTree, tree } from '../helpers/vault-bench'

let d: InProcessDaemon | undefined
afterAll(async () => {
  await d?.close()
})

describe('a store plugin that fails one call in five', () => {
  it('lets backups, restores, verifies and a GC running at once all succeed, byte for byte', async () => {
    let faulty: FaultyStore | undefined
    const log: string[] = []
    d = await startInProcess({
      dataDir: join(tempDir('bulwark-faults-'), 'data'),
      clock: new TestClock(),
      log,
      plugins: (registry) => {
        const info = fromManifest(
          { ...(fsManifest as PluginManifest), name: 'faulty-fs', title: 'Faulty fs' },
          'builtin',
        )
        registry.add(info, async () => {
          faulty = faultyStore(fsModule.plugin as StorePlugin, { every: 5, seed: 7 })
          return faulty
        })
      },
    })
    const b = new VaultBench(d as unknown as RunningDaemon)
    const store = await b.store({ path: tempDir('bulwark-faulty-store-') }, 'faulty-fs')
    const sides = [randomTree(4, 1_500_000), randomTree(4, 1_500_000)]
    const jobs = await Promise.all(sides.map((src) => b.job(store, src)))

    const before = sides.map((src) => tree(src))
    const first = await Promise.all(jobs.map((job) => b.goodBackup(job)))
    for (const src of sides) writeFileSync(join(src, 'f9.bin'), randomBytes(1_500_000))
    const gc = await d.api('POST', `/v1/store/${store}/gc`, {})
    expect(gc.status, JSON.stringify(gc.body)).toBe(200)
    const [second, third] = await Promise.all([
      b.goodBackup(jobs[0]!),
      b.goodBackup(jobs[1]!),
      b.restoresExactly(first[0].uuid, before[0]!),
      b.restoresExactly(first[1].uuid, before[1]!),
      d.settled(gc.body.task_uuid, 120_000).then((t) => expect(t.status, t.log).toBe('done')),
    ])
    await Promise.all([
      b.restoresExactly(second.uuid, sides[0]!),
      b.restoresExactly(third.uuid, sides[1]!),
    ])
    for (const archive of [...first, second, third]) {
      const v = await b.verify(archive.uuid)
      expect(v.status, v.log).toBe('done')
      expect((await b.archive(archive.uuid)).status).toBe('valid')
    }

    // Faults were injected of every kind the runs make, and each was retried.
    const injected = faulty!.injected
    console.log(`store faults injected: ${JSON.stringify(injected)}`)
    expect(injected.put).toBeGreaterThan(3)
    expect(injected.get + injected['get-stream']).toBeGreaterThan(3)
    expect(injected['get-stream']).toBeGreaterThan(0)
    expect(injected.list).toBeGreaterThan(0)
    const tasks = (await d.api('GET', '/v1/tasks?limit=100')).body as { uuid: string }[]
    const logs = await Promise.all(
      tasks.map(async (t) => (await d!.api('GET', `/v1/task/${t.uuid}`)).body.log as string),
    )
    expect(logs.some((l) => /store: put \S+ failed \(injected fault.*retrying in/.test(l))).toBe(
      true,
    )
    expect(logs.some((l) => /reading \S+ broke off \(injected fault/.test(l))).toBe(true)
  }, 240_000)
})
