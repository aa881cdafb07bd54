// Retention purges a store's expired archives in one pass: the real daemon,
// in this process so its clock can move past the archives' expiry, over real
// HTTP, with a real fs store. Five archives expire at once: one purge task
// removes them, and one GC follows. One archive's manifest cannot be deleted
// (the store refuses: it is immutable): the other four are purged all the same, the task fails
// saying so, that one stays expired, and deleting it again once the store
// answers purges it.
import { execFileSync } from 'node:child_process'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'
import { skipTest } from '../helpers/skip'
import { waitFor } from '../helpers/wait'

const HOUR = 3600_000
const base = tempDir('bulwark-retention-purge-')
const storeDir = join(base, 'store')
const clock = new TestClock()
let d: InProcessDaemon
/** Files made immutable, to free again whatever happens. */
const immutable: string[] = []

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}
const archive = async (uuid: string) => (await d.api('GET', `/v1/archive/${uuid}`)).body
const purgeTasks = async () => (await d.api('GET', '/v1/tasks?type=purge')).body as any[]

/** The file in the store holding `uuid`'s manifest. */
function manifestFile(uuid: string): string {
  const dir = join(storeDir, 'manifests')
  const name = readdirSync(dir, { recursive: true }).find((f) => String(f).endsWith(uuid))
  if (!name) throw new Error(`no manifest of ${uuid} in the store`)
  return join(dir, String(name))
}

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock })
})
afterAll(async () => {
  for (const f of immutable) execFileSync('chattr', ['-i', f])
  await d?.close()
  rmSync(base, { recursive: true, force: true })
})

it('purges what expired in a store in one task, and one archive the store refuses stays expired', async (ctx) => {
  const job = await created('/v1/jobs', {
    name: 'hourly',
    target: await created('/v1/targets', {
      name: 'bytes',
      plugin: 'exec',
      endpoint: { backup_command: 'head -c 65536 /dev/urandom', restore_command: 'cat >/dev/null' },
    }),
    store: await created('/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: storeDir },
    }),
    schedule: await created('/v1/schedules', {
      name: 'weekly',
      when: 'weekly at 2:30am on sundays',
    }),
    retention: await created('/v1/retention', { name: 'hour', expires: 3600, keep_min: 1 }),
    paused: true,
  })
  const made: string[] = []
  for (let i = 0; i < 6; i++) {
    const res = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
    const task = await d.settled(res.body.task_uuid)
    expect(task.status, task.log).toBe('done')
    made.push(task.archive_uuid)
  }
  const [stuck, ...rest] = made.slice(0, 5) // the newest (last) is kept by keep_min
  // The store cannot delete the stuck archive's manifest: it is immutable
  // (chattr +i, which stops root too).
  const stuckFile = manifestFile(stuck!)
  if (process.getuid?.() !== 0)
    return skipTest(
      ctx,
      'root, to make one manifest immutable with chattr +i',
      'run the tests as root',
    )
  execFileSync('chattr', ['+i', stuckFile])
  immutable.push(stuckFile)

  clock.offsetMs += 2 * HOUR
  await d.logged('5 archive(s) expired', 1, 60_000)
  const [task] = await waitFor('the purge task', async () => {
    const tasks = await purgeTasks()
    return tasks.length > 0 && !['pending', 'running'].includes(tasks[0].status) ? tasks : undefined
  })
  expect((await purgeTasks()).length).toBe(1)
  const full = (await d.api('GET', `/v1/task/${task.uuid}`)).body
  expect(full.status).toBe('failed')
  expect(full.error).toMatch(/^1 of 5 archive\(s\) could not be removed from the store/)
  expect(full.log).toContain('purged 4 of 5 archive(s)')
  for (const uuid of rest) {
    expect((await archive(uuid)).status).toBe('purged')
    expect(() => manifestFile(uuid)).toThrow(/no manifest/)
  }
  expect((await archive(stuck!)).status).toBe('expired')
  expect((await archive(made[5]!)).status).toBe('valid')
  // One GC for the store, not one per archive.
  const gcs = (await d.api('GET', '/v1/tasks?type=gc')).body as any[]
  expect(gcs.length).toBe(1)

  // The store answers again: deleting the expired archive purges it.
  execFileSync('chattr', ['-i', stuckFile])
  immutable.pop()
  const del = await d.api('DELETE', `/v1/archive/${stuck}`)
  expect(del.body.task_uuid).toBeTruthy()
  const again = await d.settled(del.body.task_uuid)
  expect(again.status, again.log).toBe('done')
  expect((await archive(stuck!)).status).toBe('purged')
  expect(statSync(storeDir).isDirectory()).toBe(true)
}, 120_000)
