// @vitest-environment happy-dom
// A running backup's progress against a real daemon: with no total from the
// daemon, the job's previous valid archive's size gives an estimate (percent
// and time left, said to be one); a job with no archive yet gets none.
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Archive, Task } from '../../src-daemon/contract'
import TaskProgress from '../../src-renderer/src/components/TaskProgress.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'
import { byTestId, mountEditor, startUiDaemon, unmountAll, until } from '../helpers/ui'

let d: RunningDaemon
let job: string
let fresh: string
let size: number

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
  const source = tempDir('bulwark-ui-progress-src-')
  writeFileSync(join(source, 'data.txt'), 'progress estimate\n'.repeat(4000))
  const store = await created('/v1/stores', {
    name: 'progress-store',
    plugin: 'fs',
    endpoint: { path: tempDir('bulwark-ui-progress-store-'), vault_password: 'progress pw 1' },
  })
  const schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
  const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  const target = await created('/v1/targets', {
    name: 'progress-src',
    plugin: 'files',
    endpoint: { path: source },
  })
  const base = { target, store, schedule, retention, paused: true }
  job = await created('/v1/jobs', { name: 'progress-job', ...base })
  fresh = await created('/v1/jobs', { name: 'never-run', ...base })
  const backup = await runTask(d, `/v1/job/${job}/run`)
  expect(backup.status, backup.log).toBe('done')
  size = (await d.api<Archive>('GET', `/v1/archive/${backup.archive_uuid}`)).body.size!
  expect(size).toBeGreaterThan(0)
}, 90_000)
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

/** A backup of `jobUuid` running for 80 s, with `bytes` moved and no total from the daemon. */
const running = (jobUuid: string, bytes: number): Task =>
  ({
    uuid: randomUUID(),
    type: 'backup',
    job_uuid: jobUuid,
    status: 'running',
    progress: null,
    bytes,
    started_at: new Date(Date.now() - 80_000).toISOString(),
  }) as Task

const label = () => byTestId('task-progress')?.textContent?.trim() ?? ''

describe('TaskProgress', () => {
  it("estimates from the last backup's size: percent and time left", async () => {
    await mountEditor(d, TaskProgress, { task: running(job, Math.round(size * 0.4)) })
    await until(() => label().includes('about'), 'the estimate')
    expect(label()).toMatch(/about 40% · ~2 min left, from the last backup's size/)
    expect(label()).toContain('so far')
  })

  it('never says more than 99% while running', async () => {
    await mountEditor(d, TaskProgress, { task: running(job, size * 3) })
    await until(() => label().includes('about'), 'the estimate')
    expect(label()).toContain('about 99%')
  })

  it('gives no estimate for a job with no archive yet', async () => {
    await mountEditor(d, TaskProgress, { task: running(fresh, 1234) })
    // Once the lookup has answered that there is no previous archive:
    await until(
      () => byTestId('task-progress')?.querySelector('[data-previous-size="null"]'),
      'the lookup of the previous archive',
    )
    expect(label()).toBe('1.2 KiB so far')
    expect(label()).not.toContain('about')
    expect(label()).not.toContain('left')
  })
})
