// Cancelling backups at every moment of their start, over and over, on a
// store whose vault does not exist yet: each ends canceled (never failed, and
// never failing the next one), no archive is kept, and a backup after them
// succeeds. (A cancel once poisoned the vault's shared creation for the next task.)
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'

let d: RunningDaemon
beforeAll(async () => {
  d = await startDaemon()
})
afterAll(async () => {
  await d.stop()
})

it('a canceled backup ends canceled and leaves the next backup unharmed', async () => {
  const post = async (path: string, body: unknown) => {
    const res = await d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.uuid as string
  }
  const store = await post('/v1/stores', {
    name: 'fresh',
    plugin: 'fs',
    endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
  })
  const target = await post('/v1/targets', {
    name: 'slow',
    plugin: 'exec',
    endpoint: { backup_command: 'sleep 30; echo late', restore_command: 'cat >/dev/null' },
  })
  const job = await post('/v1/jobs', {
    name: 'slow-job',
    target,
    store,
    schedule: await post('/v1/schedules', { name: 'weekly', when: 'weekly at 2am on sundays' }),
    retention: await post('/v1/retention', { name: 'day', expires: 86400 }),
  })
  for (let i = 0; i < 8; i++) {
    const task = (await d.api('POST', `/v1/job/${job}/run`)).body.task_uuid
    await waitForTask(d, task, (s) => s !== 'pending')
    // From at once to well into the vault's creation (scrypt, then its config object).
    await new Promise((r) => setTimeout(r, i * 60))
    await d.api('DELETE', `/v1/task/${task}`)
    const ended = await waitForTask(d, task)
    expect(ended.status, `run ${i}: ${ended.log}`).toBe('canceled')
  }
  expect((await d.api('GET', `/v1/archives?store=${store}`)).body).toEqual([])
  const put = await d.api('PUT', `/v1/target/${target}`, {
    name: 'slow',
    plugin: 'exec',
    endpoint: { backup_command: 'echo on time', restore_command: 'cat >/dev/null' },
    summary: '',
  })
  expect(put.status).toBe(200)
  const done = await runTask(d, `/v1/job/${job}/run`)
  expect(done.status, done.log).toBe('done')
  expect((await d.api('GET', `/v1/archives?store=${store}`)).body).toHaveLength(1)
  expect(d.child.exitCode).toBeNull()
})
