// Who did what, and how much, on tasks started and canceled from the built CLI
// and through the API as the UI does: a verify task's bytes are the bytes it
// read back (never 0 B), a CLI cancel is recorded with the user's name, and
// owner=ui on a cancel or a run is recorded as ui.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'

const SIZE = 3_000_000
const USER = userInfo().username

let d: RunningDaemon
const ids = { store: '', fast: '', slow: '' }
const storeDir = tempDir()

const post = async (path: string, body: unknown) => {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

beforeAll(async () => {
  d = await startDaemon()
  ids.store = await post('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: storeDir, vault_password: 'correct horse battery' },
  })
  const schedule = await post('/v1/schedules', { name: 'weekly', when: 'weekly at 2am on sundays' })
  const retention = await post('/v1/retention', { name: 'day', expires: 86400 })
  const job = async (name: string, backup: string) =>
    post('/v1/jobs', {
      name,
      store: ids.store,
      schedule,
      retention,
      target: await post('/v1/targets', {
        name,
        plugin: 'exec',
        endpoint: { backup_command: backup, restore_command: 'cat >/dev/null' },
      }),
    })
  ids.fast = await job('fast', `head -c ${SIZE} /dev/urandom`)
  ids.slow = await job('slow', 'sleep 30; echo late')
})
afterAll(async () => {
  await d?.stop()
})

const cli = async (...args: string[]) => {
  const r = await runCli(args, { dataDir: d.dataDir })
  expect(r.code, `bulwark ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0)
  return r.stdout
}

/** Runs the slow job and waits until its task runs. */
async function runningSlowTask(owner?: string): Promise<string> {
  const res = await d.api('POST', `/v1/job/${ids.slow}/run`, owner ? { owner } : {})
  const uuid = res.body.task_uuid as string
  await waitForTask(d, uuid, (s) => s !== 'pending')
  return uuid
}

describe('verify bytes', () => {
  it("a verify task's bytes are what it read back, as the backup's are", async () => {
    const backup = await runTask(d, `/v1/job/${ids.fast}/run`)
    expect(backup.status, backup.log).toBe('done')
    expect(backup.bytes).toBe(SIZE)
    const verified = await cli('verify', 'archive', backup.archive_uuid, '--follow')
    expect(verified).toContain('done')
    const tasks = (await d.api('GET', `/v1/tasks?type=verify&status=all`)).body
    expect(tasks).toHaveLength(1)
    expect(tasks[0].status).toBe('done')
    expect(tasks[0].owner).toBe(USER)
    expect(tasks[0].bytes).toBe(SIZE)
    expect(await cli('list', 'tasks', '--all')).toMatch(/verify +done/)

    // A verify that finds damage keeps the bytes it read, rather than 0 B.
    const chunks = join(storeDir, 'chunks')
    const dir = join(chunks, readdirSync(chunks)[0]!)
    const file = join(dir, readdirSync(dir)[0]!)
    const bytes = readFileSync(file)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1)
    writeFileSync(file, bytes)
    const failed = await runTask(d, `/v1/archive/${backup.archive_uuid}/verify`)
    expect(failed.status, failed.log).toBe('failed')
    expect(failed.bytes).toBeGreaterThan(0)
  })
})

describe('cancel owners', () => {
  it("a cancel from the CLI is recorded with the user's name, not anon", async () => {
    const task = await runningSlowTask()
    await cli('cancel', 'task', task)
    const ended = await waitForTask(d, task)
    expect(ended.status).toBe('canceled')
    expect(ended.log).toContain(`cancel requested by ${USER}`)
    expect(ended.log).not.toContain('cancel requested by anon')
    // --owner names someone else.
    const other = await runningSlowTask()
    await cli('cancel', 'task', other, '--owner', 'oncall')
    expect((await waitForTask(d, other)).log).toContain('cancel requested by oncall')
  })

  it('owner=ui, as the UI sends it, is recorded on a run and on a cancel', async () => {
    const task = await runningSlowTask('ui')
    const canceled = await d.api('DELETE', `/v1/task/${task}?owner=ui`)
    expect(canceled.status).toBe(200)
    const ended = await waitForTask(d, task)
    expect(ended.owner).toBe('ui')
    expect(ended.log).toContain('cancel requested by ui')
    // Without one it stays anon, as before; an empty one is refused.
    expect((await d.api('DELETE', `/v1/task/${task}?owner=`)).status).toBe(400)
  })
})
