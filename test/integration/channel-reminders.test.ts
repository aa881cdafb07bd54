// A job that keeps failing is announced again only after the channel's
// reminder_hours, never with reminder_hours 0, and its recovery once: the
// real daemon run in this process so its clock can move hours ahead, a real
// HTTP receiver, real (failing, then fixed) backups.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/daemon'
import { Receiver } from '../helpers/http-receiver'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const HOUR = 3600_000
const base = tempDir('bulwark-reminders-')
const clock = new TestClock()
const rx = new Receiver()
let d: InProcessDaemon
let job: string
let closed = false
const dump = join(base, 'src', 'dump.sql')
const retryBefore = process.env.BULWARK_NOTIFY_RETRY_MS

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

async function run(): Promise<string> {
  const res = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return (await d.settled(res.body.task_uuid)).status
}

const events = (path: string) =>
  rx.at(path).map((r) => {
    const n = JSON.parse(r.body) as { event: string; title: string }
    return `${n.event}: ${n.title}`
  })

beforeAll(async () => {
  process.env.BULWARK_NOTIFY_RETRY_MS = '50,100'
  await rx.start()
  mkdirSync(join(base, 'src'))
  d = await startInProcess({ dataDir: join(base, 'data'), clock })
  const store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(base, 'store') },
  })
  const schedule = await created('/v1/schedules', {
    name: 'weekly',
    when: 'weekly at 2:30am on sundays',
  })
  const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  const target = await created('/v1/targets', {
    name: 'orders-db',
    plugin: 'exec',
    endpoint: { backup_command: `cat ${dump}`, restore_command: 'cat >/dev/null' },
  })
  job = await created('/v1/jobs', {
    name: 'orders',
    target,
    store,
    schedule,
    retention,
    paused: true,
  })
})

afterAll(async () => {
  if (!closed) await d?.close()
  await rx.stop()
  if (retryBefore === undefined) delete process.env.BULWARK_NOTIFY_RETRY_MS
  else process.env.BULWARK_NOTIFY_RETRY_MS = retryBefore
  rmSync(base, { recursive: true, force: true })
})

describe('reminders', () => {
  it('tells again after reminder_hours, never with 0, and the recovery once', async () => {
    const channel = (name: string, reminder_hours: number) =>
      created('/v1/channels', {
        name,
        kind: 'webhook',
        settings: { url: `${rx.url}/${name}` },
        jobs: [job],
        reminder_hours,
      })
    await channel('remind', 2)
    await channel('quiet', 0)

    expect(await run()).toBe('failed')
    await rx.waitFor('/remind')
    await rx.waitFor('/quiet')
    expect(await run()).toBe('failed') // an hour later at most: nothing new
    clock.offsetMs += 3 * HOUR
    expect(await run()).toBe('failed') // past 2 hours: a reminder, on one channel only
    await rx.waitFor('/remind', 2)
    expect(await run()).toBe('failed') // just told: nothing
    writeFileSync(dump, 'CREATE TABLE orders (id int);\n')
    expect(await run()).toBe('done')
    await rx.waitFor('/remind', 3)
    await rx.waitFor('/quiet', 2)
    expect(events('/remind')).toEqual([
      'backup.failed: Backup of orders failed',
      'backup.failed: Backup of orders is still failing',
      'backup.recovered: Backup of orders works again',
    ])
    expect(events('/quiet')).toEqual([
      'backup.failed: Backup of orders failed',
      'backup.recovered: Backup of orders works again',
    ])
    const reminder = JSON.parse(rx.at('/remind')[1]!.body) as { body: string }
    expect(reminder.body).toMatch(/Failing since: .* \(3 h/)
    // The courier's one line per delivery, in the daemon's log.
    // The line is written once the receiver has answered, so wait for it.
    expect(await d.logged('notify: channel "remind"', 3)).toHaveLength(3)
  })

  it('abandons a delivery still waiting for its receiver when the daemon stops', async () => {
    await created('/v1/channels', {
      name: 'hang',
      kind: 'webhook',
      settings: { url: `${rx.url}/hang` },
      events: ['backup.succeeded'],
    })
    expect(await run()).toBe('done')
    await rx.waitFor('/hang')
    const started = Date.now()
    closed = true
    await d.close()
    // Well before the 15 s an attempt may take.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(d.log.some((l) => l.includes('"hang"') && l.includes('the daemon is stopping'))).toBe(
      true,
    )
  })
})
