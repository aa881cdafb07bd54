// The tray's state model and notification rules (src-main/tray-model.ts) fed
// by a real daemon: the supervisor starts it, the feed follows its event
// stream, and real backups fail (a SQLite target whose file is missing) or
// succeed, a real restore finishes, and the tray's "pause all" pauses the
// real jobs. The rules for signals this daemon cannot raise within a test
// (a job stale for twice its period) get events in the contract's shape.
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { BulwarkClient } from '../../src-daemon/client'
import type { DaemonEvent, Job } from '../../src-daemon/contract'
import { DaemonFeed } from '../../src-main/daemon-feed'
import { pauseAll, pauseIsOver, resumeAll } from '../../src-main/pause-all'
import type { PauseAll } from '../../src-main/settings'
import { Supervisor } from '../../src-main/supervisor'
import { notificationFor, type Happening } from '../../src-main/notification-rules'
import { taskRoute, trayIcon, trayView, type TrayInput } from '../../src-main/tray-model'
import { BULWARK_BIN, tempDir } from '../helpers/daemon'

let sup: Supervisor
let client: BulwarkClient
let feed: DaemonFeed
const happenings: Happening[] = []
let pause: PauseAll | null = null

beforeAll(async () => {
  sup = new Supervisor({
    dataDir: tempDir(),
    command: [process.execPath, BULWARK_BIN, 'daemon'],
    // No low-space warning on a nearly full test machine: the icons asserted are the jobs' own.
    env: { ...process.env, BULWARK_KEYCHAIN: 'off', BULWARK_LOW_SPACE_BYTES: '0' },
  })
  await sup.start()
  client = sup.client()!
  feed = new DaemonFeed()
  feed.on('happening', (h) => happenings.push(h))
  await feed.connect(client)
})
afterAll(async () => {
  feed?.disconnect()
  await sup?.stop()
})

/** The tray's input as the adapter builds it, from the feed. */
const input = (over: Partial<TrayInput> = {}): TrayInput => ({
  daemon: sup.state.state,
  jobs: feed.jobs,
  running: feed.running.size,
  health: [...feed.health.values()],
  pause,
  notifications: 'failures',
  launchAtLogin: false,
  background: false,
  now: Date.now(),
  ...over,
})

/** The first happening (seen already or still to come) that `match` accepts. */
function happening(match: (h: Happening) => boolean, ms = 30_000): Promise<Happening> {
  const seen = happenings.find(match)
  if (seen) return Promise.resolve(seen)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no such happening')), ms)
    const on = (h: Happening) => {
      if (!match(h)) return
      clearTimeout(timer)
      feed.off('happening', on)
      resolve(h)
    }
    feed.on('happening', on)
  })
}

const endOf = (task: string) =>
  happening((h) => h.kind === 'task-ended' && h.task.uuid === task) as Promise<
    Extract<Happening, { kind: 'task-ended' }>
  >

async function sqliteJob(name: string, path: string, paused = false): Promise<string> {
  const store = await client.createStore({
    name: `store ${name}`,
    plugin: 'fs',
    endpoint: { path: tempDir('bulwark-tray-store-'), vault_password: 'correct horse battery' },
  })
  const target = await client.createTarget({
    name: `db ${name}`,
    plugin: 'sqlite',
    endpoint: { path },
  })
  const schedule = await client.createSchedule({
    name: `s ${name}`,
    when: 'weekly at 2:30am on sundays',
  })
  const retention = await client.createRetention({ name: `r ${name}`, expires: 7 * 86400 })
  const job = await client.createJob({
    name,
    target: target.uuid,
    store: store.uuid,
    schedule: schedule.uuid,
    retention: retention.uuid,
    paused,
  })
  return job.uuid
}

const jobsChanged = (pred: (jobs: Job[]) => boolean) =>
  new Promise<void>((resolve) => {
    if (pred(feed.jobs)) return resolve()
    const on = () => {
      if (!pred(feed.jobs)) return
      feed.off('change', on)
      resolve()
    }
    feed.on('change', on)
  })

describe('tray model fed by a real daemon', () => {
  let broken = ''
  let good = ''
  const dbPath = join(tempDir('bulwark-tray-db-'), 'app.db')

  it('is ok with no jobs, and failing with a notification linking the task when a backup fails', async () => {
    expect(trayIcon(input()).icon).toBe('ok')
    broken = await sqliteJob('orders db', join(tempDir(), 'missing.db'))
    const { task_uuid } = await client.runJob(broken)
    const ended = await endOf(task_uuid)
    expect(ended.task).toMatchObject({ type: 'backup', status: 'failed' })
    const n = notificationFor(ended, 'failures')!
    expect(n.title).toBe('Backup of orders db failed')
    expect(n.body).toMatch(/^The backup failed: .+/)
    expect(n.open).toEqual(taskRoute(task_uuid))
    expect(n.open).toEqual({ kind: 'route', path: `/tasks/${task_uuid}` })
    expect(notificationFor(ended, 'off')).toBeNull()

    await jobsChanged((jobs) => jobs.some((j) => j.uuid === broken && j.last_status === 'failed'))
    const view = trayView(input())
    expect(view.icon).toBe('failing')
    expect(view.tooltip).toContain('orders db')
    const jobItem = view.menu.find((m) => m.kind === 'submenu' && m.label.startsWith('orders db'))
    expect(jobItem).toMatchObject({
      label: expect.stringMatching(/^orders db: failed \d+ s ago · next in \d+/),
    })
    expect(jobItem).toMatchObject({
      items: [
        { label: 'Back up now', action: { type: 'run-job', job: broken }, enabled: true },
        {},
      ],
    })
  })

  it('tells a finished restore even with failures only, and a finished backup only with all', async () => {
    const db = new Database(dbPath)
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    db.close()
    good = await sqliteJob('app db', dbPath)
    const backup = await endOf((await client.runJob(good)).task_uuid)
    expect(backup.task.status, backup.task.error ?? '').toBe('done')
    expect(notificationFor(backup, 'failures')).toBeNull()
    expect(notificationFor(backup, 'all')).toMatchObject({ title: 'Backup of app db finished' })

    const [archive] = await client.listArchives({ job: good })
    const { task_uuid } = await client.restoreArchive(archive!.uuid)
    const restore = await endOf(task_uuid)
    expect(restore.task, restore.task.error ?? '').toMatchObject({
      type: 'restore',
      status: 'done',
    })
    expect(notificationFor(restore, 'failures')).toEqual({
      title: 'Restore of app db finished',
      body: 'The restore finished.',
      importance: 'outcome',
      open: { kind: 'route', path: `/tasks/${task_uuid}` },
    })
    expect(notificationFor(restore, 'off')).toBeNull()
  })

  it('shows paused while the tray pauses all schedules, and resumes only what it paused', async () => {
    await client.deleteJob(broken) // its failure would outrank everything
    const mine = await sqliteJob('paused by hand', dbPath + '-other', true)
    await jobsChanged((jobs) => jobs.length === 2 && !jobs.some((j) => j.uuid === broken))
    expect(trayIcon(input()).icon).toBe('ok')

    const now = Date.now()
    pause = await pauseAll(client, 1, now)
    expect(pause).toEqual({ jobs: [good], until: now + 3600_000 })
    await jobsChanged((jobs) => jobs.every((j) => j.paused))
    const view = trayView(input({ now: now + 1800_000 }))
    expect(view.icon).toBe('paused')
    expect(view.tooltip).toBe('Bulwark: schedules paused for 30 min more')
    expect(view.menu).toContainEqual(
      expect.objectContaining({ kind: 'action', action: { type: 'resume-all' } }),
    )
    expect(pauseIsOver(pause, now + 3599_000)).toBe(false)
    expect(pauseIsOver(pause, now + 3600_000)).toBe(true)

    await resumeAll(client, pause)
    pause = null
    await jobsChanged((jobs) => jobs.some((j) => j.uuid === good && !j.paused))
    expect(feed.jobs.find((j) => j.uuid === mine)?.paused).toBe(true)
    expect(trayIcon(input()).icon).toBe('ok')
  })

  it('shows running while a task runs, and failing over running when the daemon keeps dying', async () => {
    expect(trayIcon(input({ running: 1 })).icon).toBe('running')
    expect(trayIcon(input({ running: 1, daemon: 'failing' })).icon).toBe('failing')
    expect(trayIcon(input({ daemon: 'restarting' })).icon).toBe('warning')
    expect(trayIcon(input({ answering: false }))).toEqual({
      icon: 'warning',
      why: 'the daemon does not answer',
    })
    const n = notificationFor(
      { kind: 'daemon-failing', reason: 'the daemon exited with code 1' },
      'failures',
    )
    expect(n).toMatchObject({ title: 'Bulwark keeps stopping', open: { kind: 'logs' } })
  })

  it('notifies a stale job, linking the job, and shows failing until it is cleared', () => {
    const event: Extract<DaemonEvent, { type: 'health' }> = {
      type: 'health',
      state: 'raised',
      signal: {
        id: `stale:job:${good}`,
        signal: 'stale',
        severity: 'failure',
        subject: { kind: 'job', uuid: good, name: 'app db' },
        message:
          'Job "app db" has had no valid archive for 15 days, while its schedule runs every 7 days.',
        since: new Date().toISOString(),
        details: {},
      },
    }
    expect(notificationFor({ kind: 'health', event }, 'failures')).toEqual({
      title: 'No recent backup of app db',
      body: event.signal.message,
      importance: 'failure',
      open: { kind: 'route', path: `/jobs?job=${good}` },
    })
    expect(trayIcon(input({ health: [event.signal] }))).toEqual({
      icon: 'failing',
      why: event.signal.message,
    })
    const cleared = { ...event, state: 'cleared' as const }
    expect(notificationFor({ kind: 'health', event: cleared }, 'all')).toBeNull()
  })

  it('tells damage found by a verify, linking the task or the damaged archive', async () => {
    // A verify of the good archive, on the real daemon: it passes, which only "all" tells.
    const [archive] = await client.listArchives({ job: good })
    const verify = await endOf((await client.verifyArchive(archive!.uuid)).task_uuid)
    expect(verify.task).toMatchObject({ type: 'verify', status: 'done' })
    expect(notificationFor(verify, 'failures')).toBeNull()
    expect(notificationFor(verify, 'all')).toMatchObject({ title: 'Verify of app db passed' })
    // The same task failed: a failure, opening the task.
    const failed = {
      ...verify,
      task: { ...verify.task, status: 'failed' as const, error: 'chunk 3f2a… is damaged' },
    }
    expect(notificationFor(failed, 'failures')).toMatchObject({
      title: 'Verify of app db found a problem',
      body: 'The verify failed: chunk 3f2a… is damaged.',
      open: taskRoute(verify.task.uuid),
    })
    // The daemon's 'invalid' health signal names the archive.
    const event: Extract<DaemonEvent, { type: 'health' }> = {
      type: 'health',
      state: 'raised',
      signal: {
        id: `invalid:archive:${archive!.uuid}`,
        signal: 'invalid',
        severity: 'failure',
        subject: { kind: 'archive', uuid: archive!.uuid, name: 'app db 2026-12-07 15:22 UTC' },
        message:
          'Verify found damage in archive "app db 2026-12-07 15:22 UTC": restore another one.',
        since: new Date().toISOString(),
        details: {},
      },
    }
    expect(notificationFor({ kind: 'health', event }, 'failures')).toMatchObject({
      title: 'Damage found in app db 2026-12-07 15:22 UTC',
      open: { kind: 'route', path: `/archives/${archive!.uuid}` },
    })
  })
})
