// Two daemons, each with its own data directory and catalog, writing one fs
// store's vault at the same time: backups of overlapping data, archives
// deleted, garbage collections with no grace period, for SOAK seconds. The
// store locks keep GC apart from every writer and the GC epoch makes each
// daemon re-check its chunk index after the other's GC; in the end every
// archive either daemon lists verifies, and the newest of each job restores
// exactly. Then the same under a store that fails one request in seven: an
// S3-compatible server behind a gate, backups and restores running at once.
import { copyFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { startS3Gate } from '../helpers/s3-gate'
import { startS3Server } from '../helpers/s3-server'
import { waitForTask } from '../helpers/tasks'
import { PASSWORD, VaultBench, randomTree, tree } from '../helpers/vault-bench'

const SOAK_MS = Number(process.env.BULWARK_SOAK_SECONDS ?? 60) * 1000

const running: RunningDaemon[] = []
afterAll(async () => {
  for (const d of running) await d.stop()
})

async function daemon(): Promise<VaultBench> {
  const d = await startDaemon({ env: { BULWARK_GC_GRACE_HOURS: '0', BULWARK_WORKERS: '3' } })
  running.push(d)
  return new VaultBench(d)
}

/** Runs the task a POST schedules (a 409 for a GC already queued is fine); its end state. */
async function gc(b: VaultBench, store: string): Promise<string | null> {
  const res = await b.d.api('POST', `/v1/store/${store}/gc`, {})
  if (res.status === 409) return null
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  const task = await waitForTask(b.d, res.body.task_uuid, undefined, 300_000)
  expect(task.status, task.log).toBe('done')
  return task.status
}

interface Side {
  b: VaultBench
  store: string
  job: string
  src: string
  /** The tree each archive was taken of. */
  trees: Map<string, Record<string, string>>
}

async function backupOnce(side: Side): Promise<void> {
  const snapshot = tree(side.src)
  const task = await side.b.backup(side.job, 300_000)
  expect(task.status, task.log).toBe('done')
  side.trees.set(task.archive_uuid, snapshot)
}

describe('two daemons sharing one store', () => {
  it(
    `back up, delete and collect garbage at once for ${SOAK_MS / 1000} s, and every archive verifies`,
    async () => {
      const storeDir = tempDir('bulwark-shared-')
      const shared = randomTree(3, 700_000) // files both daemons back up: chunks they share
      const mk = () => {
        const src = randomTree(2, 600_000) // f0.bin, f1.bin: this side's own
        for (const f of ['f0.bin', 'f1.bin', 'f2.bin'])
          copyFileSync(join(shared, f), join(src, `s${f}`))
        return src
      }
      const a = await daemon()
      const aStore = await a.store({ path: storeDir })
      const A: Side = { b: a, store: aStore, job: '', src: mk(), trees: new Map() }
      A.job = await a.job(aStore, A.src)
      await backupOnce(A) // creates the vault
      const b = await daemon()
      const imported = await b.d.api('POST', '/v1/stores/import', {
        name: 'shared',
        plugin: 'fs',
        endpoint: { path: storeDir, vault_password: PASSWORD },
      })
      expect(imported.status, JSON.stringify(imported.body)).toBe(200)
      const B: Side = { b, store: imported.body.uuid, job: '', src: mk(), trees: new Map() }
      B.job = await b.job(B.store, B.src)

      const deadline = Date.now() + SOAK_MS
      let rounds = 0
      while (Date.now() < deadline) {
        rounds++
        for (const side of [A, B]) {
          // New data each round, and now and then a file the other side has too.
          writeFileSync(join(side.src, `f3.bin`), randomBytes(600_000))
          if (rounds % 3 === 0) copyFileSync(join(A.src, 'f1.bin'), join(B.src, 'f5.bin'))
        }
        const deletions = [A, B].map(async (side) => {
          const archives = [...side.trees.keys()]
          if (archives.length < 3) return
          const victim = archives[0]!
          side.trees.delete(victim)
          const del = await side.b.d.api('DELETE', `/v1/archive/${victim}`)
          expect(del.status, JSON.stringify(del.body)).toBe(200)
          if (del.body.task_uuid) {
            const purge = await waitForTask(side.b.d, del.body.task_uuid, undefined, 300_000)
            expect(purge.status, purge.log).toBe('done')
          }
        })
        await Promise.all([
          backupOnce(A),
          backupOnce(B),
          gc(A.b, A.store),
          gc(B.b, B.store),
          ...deletions,
        ])
      }
      expect(rounds).toBeGreaterThan(1)
      console.log(`shared store: ${rounds} rounds in ${SOAK_MS / 1000} s`)

      // Every task of either daemon ended, and every GC and backup succeeded.
      for (const side of [A, B]) {
        const tasks = (await side.b.d.api('GET', '/v1/tasks?limit=1000')).body as any[]
        await Promise.all(
          tasks
            .filter((t) => t.status === 'pending' || t.status === 'running')
            .map((t) => waitForTask(side.b.d, t.uuid, undefined, 300_000)),
        )
        const after = (await side.b.d.api('GET', '/v1/tasks?limit=1000')).body as any[]
        const bad = after.filter((t) => t.status !== 'done')
        expect(bad.map((t) => `${t.op} ${t.status}: ${t.error}`)).toEqual([])
      }
      // Each learns the other's archives, then verifies every one it lists.
      for (const side of [A, B]) {
        const rescan = await side.b.d.api('POST', `/v1/store/${side.store}/import`)
        expect(rescan.status, JSON.stringify(rescan.body)).toBe(200)
        const archives = (await side.b.d.api('GET', '/v1/archives')).body as any[]
        const valid = archives.filter((x) => x.status === 'valid')
        expect(valid.length).toBeGreaterThanOrEqual(side.trees.size)
        for (const archive of valid) {
          const v = await side.b.verify(archive.uuid)
          expect(v.status, `${archive.uuid}: ${v.log}`).toBe('done')
        }
      }
      for (const side of [A, B]) {
        const newest = [...side.trees.keys()].at(-1)!
        const { task, dest } = await side.b.restore(newest)
        expect(task.status, task.log).toBe('done')
        expect(tree(dest)).toEqual(side.trees.get(newest))
      }
    },
    SOAK_MS + 600_000,
  )
})

describe('a store that fails one request in seven', () => {
  it('lets backups and restores running at once all succeed, byte for byte', async () => {
    const s3 = await startS3Server()
    const gate = await startS3Gate(s3)
    try {
      const b = await daemon()
      const store = await b.store(gate.storeEndpoint({ prefix: 'faulty' }))
      const sides = [randomTree(3, 900_000), randomTree(3, 900_000)]
      const jobs = await Promise.all(sides.map((src) => b.job(store, src)))
      const first = await Promise.all(jobs.map((job) => b.goodBackup(job)))
      let failed = 0
      gate.rule = ({ n }) => {
        if (n % 7 !== 3) return 'pass'
        failed++
        return n % 2 ? { status: 503, code: 'SlowDown' } : { status: 500, code: 'InternalError' }
      }
      const before = tree(sides[0]!)
      for (const src of sides) writeFileSync(join(src, 'f9.bin'), randomBytes(900_000))
      const [second, third] = await Promise.all([
        b.goodBackup(jobs[0]!),
        b.goodBackup(jobs[1]!),
        b.restoresExactly(first[0].uuid, before),
      ])
      await Promise.all([
        b.restoresExactly(second.uuid, sides[0]!),
        b.restoresExactly(third.uuid, sides[1]!),
      ])
      expect(failed).toBeGreaterThan(5)
    } finally {
      await gate.stop()
      await s3.stop()
    }
  })
})
