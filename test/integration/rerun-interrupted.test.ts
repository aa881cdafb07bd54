// A scheduled backup cut short by the daemon's death (SIGKILL mid-backup): at
// the next start the task is failed as an orphan, a notification channel hears
// of that failure, and the job's backup runs again once, by itself; the
// recovery is announced. With BULWARK_RERUN_INTERRUPTED=0 it waits for its
// next slot instead. A backup someone started by hand is not re-run.
import { existsSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'

const base = tempDir('bulwark-rerun-')
const running: RunningDaemon[] = []
let receiver: Server
let hook = ''
const heard: { event: string; task: string | null }[] = []

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const notice = JSON.parse(body)
      heard.push({ event: notice.event, task: notice.task?.uuid ?? null })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
})
afterAll(async () => {
  for (const d of running) await d.stop()
  await new Promise((r) => receiver.close(r))
  rmSync(base, { recursive: true, force: true })
})

async function start(dataDir: string, env: Record<string, string> = {}) {
  const d = await startDaemon({ dataDir, env: { BULWARK_NOTIFY_RETRY_MS: '50,100', ...env } })
  running.push(d)
  return d
}

async function created(d: RunningDaemon, path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

/**
 * A job whose first backup hangs (after leaving a marker) and whose later ones
 * work, with a webhook channel; its backup started as `owner`, then the daemon killed.
 */
async function killedMidBackup(name: string, owner: string, env: Record<string, string> = {}) {
  const dataDir = join(base, name)
  const marker = join(base, `${name}.started`)
  const d = await start(dataDir, env)
  const store = await created(d, '/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(base, `${name}-store`) },
  })
  const target = await created(d, '/v1/targets', {
    name: 'slow',
    plugin: 'exec',
    endpoint: {
      backup_command: `if [ -e '${marker}' ]; then echo data; else touch '${marker}'; exec sleep 30; fi`,
      restore_command: 'cat > /dev/null',
    },
  })
  const schedule = await created(d, '/v1/schedules', { name: 'daily', when: 'daily at 4am' })
  const retention = await created(d, '/v1/retention', { name: 'week', expires: 7 * 86400 })
  const job = await created(d, '/v1/jobs', {
    name,
    target,
    store,
    schedule,
    retention,
    // Not on its schedule: nothing but this test and the re-run starts it.
    paused: false,
  })
  await created(d, '/v1/channels', {
    name: `${name}-hook`,
    kind: 'webhook',
    settings: { url: hook },
  })
  const run = await d.api('POST', `/v1/job/${job}/run`, { owner })
  expect(run.status, JSON.stringify(run.body)).toBe(200)
  const task = run.body.task_uuid as string
  await expect.poll(() => existsSync(marker), { timeout: 20_000 }).toBe(true)
  const exited = new Promise((r) => d.child.once('exit', r))
  d.child.kill('SIGKILL')
  await exited
  running.splice(running.indexOf(d), 1)
  return { dataDir, job, task }
}

const backupsOf = async (d: RunningDaemon, job: string) =>
  (await d.api('GET', `/v1/tasks?job=${job}&type=backup&status=all`)).body as any[]

describe('a scheduled backup cut short by the daemon stopping', () => {
  it('is failed, announced, and run again once at the next start; its success is announced', async () => {
    const { dataDir, job, task } = await killedMidBackup('nightly', 'system')
    const d = await start(dataDir)
    const old = await waitForTask(d, task)
    expect(old.status).toBe('failed')
    expect(old.error).toBe('the daemon stopped while this task was running')
    const tasks = await backupsOf(d, job)
    expect(tasks).toHaveLength(2)
    const again = tasks.find((t) => t.uuid !== task)!
    expect(again.owner).toBe('system')
    expect((await waitForTask(d, again.uuid)).status).toBe('done')
    expect(d.stderr.join('\n')).toContain(
      `job "nightly": its scheduled backup was cut short when the daemon stopped; running it again (task ${again.uuid})`,
    )
    await expect
      .poll(() => heard.filter((h) => h.task === task || h.task === again.uuid), {
        timeout: 20_000,
      })
      .toEqual([
        { event: 'backup.failed', task },
        { event: 'backup.recovered', task: again.uuid },
      ])
  })

  it('waits for its next slot with BULWARK_RERUN_INTERRUPTED=0', async () => {
    const { dataDir, job, task } = await killedMidBackup('no-rerun', 'system', {
      BULWARK_RERUN_INTERRUPTED: '0',
    })
    const d = await start(dataDir, { BULWARK_RERUN_INTERRUPTED: '0' })
    expect((await waitForTask(d, task)).status).toBe('failed')
    // The decision is made before the daemon listens: what is queued now is all there is.
    expect((await backupsOf(d, job)).map((t) => t.uuid)).toEqual([task])
  })

  it('is not re-run when a person started it', async () => {
    const { dataDir, job, task } = await killedMidBackup('by-hand', 'alice')
    const d = await start(dataDir)
    expect((await waitForTask(d, task)).status).toBe('failed')
    expect((await backupsOf(d, job)).map((t) => t.uuid)).toEqual([task])
  })
})
