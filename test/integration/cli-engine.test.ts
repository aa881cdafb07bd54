// The real `bulwark` binary against a real daemon that runs tasks: backups with
// the `exec` target into the `fs` store, followed live (--follow, text and
// JSON), failing and canceled backups, archives listed, annotated, restored and
// purged, connection tests, and the task list's default of active tasks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli as runCliInProcess } from '../../src-daemon/cli/main'
import type { Archive, ConnectionTest, DaemonEvent, Task } from '../../src-daemon/contract'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const MISSING_UUID = '00000000-0000-4000-8000-000000000000'
const BACKUP_BYTES = 'hello bulwark\n'

describe('bulwark runs, follows, restores and purges backups', () => {
  let d: RunningDaemon
  const work = tempDir('bulwark-cli-engine-')
  const storeDir = join(work, 'store')
  const restored = join(work, 'restored.out')
  const ids: Record<string, string> = {}

  const cli = (...args: string[]) => runCli(args, { dataDir: d.dataDir })
  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args)
    expect(r.stderr, `bulwark ${args.join(' ')}`).toBe('')
    expect(r.code, `bulwark ${args.join(' ')}`).toBe(0)
    return r.stdout
  }
  const json = async <T = unknown>(...args: string[]) =>
    JSON.parse(await ok(...args, '--json')) as T
  async function created(kind: string, name: string, ...args: string[]): Promise<string> {
    const out = await ok('create', kind, '--name', name, ...args)
    const m = new RegExp(`"${name}" (${UUID.source})\\n$`).exec(out)
    expect(m, out).not.toBeNull()
    return m?.[1] ?? ''
  }
  const execTarget = (name: string, backup: string, restore = 'cat >/dev/null') =>
    created(
      'target',
      name,
      '--plugin',
      'exec',
      '--set',
      `backup_command=${backup}`,
      '--set',
      `restore_command=${restore}`,
    )
  const job = (name: string, target: string) =>
    created(
      'job',
      name,
      '--target',
      target,
      '--store',
      'local',
      '--schedule',
      'nightly',
      '--retention',
      'week',
      '--paused',
    )
  /** The lines of the log section of a --follow output, without their timestamps. */
  const logLines = (out: string) =>
    out
      .split('\n')
      .filter((l) => /^ {2}\d{4}-\d\d-\d\dT[\d:.]+Z /.test(l))
      .map((l) => l.replace(/^ {2}\S+ /, ''))
  const rowOf = (table: string, start: string) =>
    table.split('\n').find((l) => l.startsWith(start)) ?? ''

  beforeAll(async () => {
    d = await startDaemon()
    ids.store = await created('store', 'local', '--plugin', 'fs', '--set', `path=${storeDir}`)
    await created('schedule', 'nightly', '--when', 'daily 4am')
    await created('retention', 'week', '--expires', '7d')
    ids.hello = await execTarget('hello', `printf '${BACKUP_BYTES.trim()}\\n'; sleep 0.2`)
    ids.broken = await execTarget(
      'broken',
      `echo 'about to fail' >&2; echo 'disk on fire' >&2; exit 3`,
    )
    ids.slow = await execTarget('slow', 'sleep 30')
    ids.sink = await execTarget('sink', 'true', `cat > '${restored}'`)
    ids.helloJob = await job('hello-job', 'hello')
    ids.brokenJob = await job('broken-job', 'broken')
    ids.slowJob = await job('slow-job', 'slow')
  }, 30_000)
  afterAll(async () => {
    await d?.stop()
  })

  it('run job --follow streams the log once and ends with done, exit 0', async () => {
    const r = await cli('run', 'job', 'hello-job', '--follow', '--owner', 'alice')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const uuid = /^UUID: +(\S+)$/m.exec(r.stdout)?.[1] ?? ''
    expect(uuid).toMatch(UUID)
    expect(r.stdout).toMatch(/^Owner: +alice$/m)
    expect(r.stdout).toMatch(/^Job: +hello-job \(/m)
    const lines = logLines(r.stdout)
    expect(lines[0]).toBe('backup task requested by alice')
    expect(lines.at(-1)).toBe('backup done')
    expect(lines.some((l) => /^archive \S+ stored as /.test(l))).toBe(true)
    // Each line once: the ones read with the task are not printed again from the stream.
    expect(new Set(lines).size).toBe(lines.length)
    const last = r.stdout.trimEnd().split('\n').at(-1)
    expect(last).toMatch(new RegExp(`^Task ${uuid} done in \\d+\\.\\d s \\(14 B\\)$`))
    expect((await waitForTask(d, uuid)).status).toBe('done')
  })

  it('run job --follow --json prints the task, then one event per line, ending done', async () => {
    const r = await cli('run', 'job', 'hello-job', '-f', '--json')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [first, ...events] = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown)
    const task = first as Task
    expect(task.uuid).toMatch(UUID)
    expect(task.type).toBe('backup')
    expect(events.length).toBeGreaterThan(0)
    for (const e of events as DaemonEvent[]) {
      expect(['task', 'task-log']).toContain(e.type)
      expect((e as { uuid: string }).uuid).toBe(task.uuid)
    }
    expect(events.at(-1)).toMatchObject({ type: 'task', status: 'done', bytes: 14 })
    const streamed = (events as DaemonEvent[]).flatMap((e) =>
      e.type === 'task-log' ? [`${e.at} ${e.line}\n`] : [],
    )
    const all = [...task.log.split(/(?<=\n)/).filter(Boolean), ...streamed]
    expect(new Set(all).size).toBe(all.length)
    expect(all.filter((l) => l.endsWith(' backup done\n'))).toHaveLength(1)
  })

  it('a failing backup: --follow shows its stderr and ends failed, exit 1', async () => {
    const r = await cli('run', 'job', 'broken-job', '-f')
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const lines = logLines(r.stdout)
    expect(lines.some((l) => l.endsWith('disk on fire'))).toBe(true)
    expect(lines.at(-1)).toMatch(/^backup failed: .*exited with code 3/)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^Task \S+ failed after \d+\.\d s: .*exited with code 3: about to fail \/ disk on fire$/,
    )
    expect(await ok('list', 'archives', '--target', 'broken')).toBe('no archives\n')
  })

  it('lists the new archives, annotates one and shows it', async () => {
    const archives = await json<Archive[]>('list', 'archives', '--job', 'hello-job')
    expect(archives).toHaveLength(2)
    for (const a of archives) {
      expect(a).toMatchObject({
        job_uuid: ids.helloJob,
        target_uuid: ids.hello,
        store_uuid: ids.store,
        target_name: 'hello',
        store_name: 'local',
        status: 'valid',
        size: BACKUP_BYTES.length,
      })
    }
    const table = await ok('list', 'archives')
    expect(table.split('\n')[0]).toMatch(/^UUID\s+TAKEN\s+TARGET\s+STORE\s+STATUS\s+SIZE\s/)
    const a = archives[0]!
    ids.archive = a.uuid
    expect(rowOf(table, a.uuid.slice(0, 8)).split(/\s{2,}/)).toEqual([
      a.uuid.slice(0, 8),
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      'hello',
      'local',
      'valid',
      '14 B',
      expect.stringMatching(/^\+\d+ B$/),
      'vault',
      expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
      '-',
    ])

    expect(await ok('edit', 'archive', a.uuid.slice(0, 8), '--notes', 'before migration 42')).toBe(
      `updated archive ${a.uuid}\n`,
    )
    const shown = await ok('show', 'archive', a.uuid)
    expect(shown).toMatch(/^Status: +valid$/m)
    expect(shown).toMatch(/^Size: +14 B$/m)
    expect(shown).toMatch(/^Target: +hello \(exec, /m)
    expect(shown).toMatch(/^Notes: +before migration 42$/m)
    expect(rowOf(await ok('list', 'archives'), a.uuid.slice(0, 8))).toMatch(
      / {2}before migration 42$/,
    )
  })

  it('restore archive --to --follow feeds the restore command exactly the backup bytes', async () => {
    const r = await cli('restore', 'archive', ids.archive!.slice(0, 8), '--to', 'sink', '--follow')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Type: +restore$/m)
    expect(r.stdout).toMatch(new RegExp(`^Target: +${ids.sink}$`, 'm'))
    expect(logLines(r.stdout).at(-1)).toBe('restore done')
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Task \S+ done in .* \(14 B\)$/)
    expect(readFileSync(restored, 'utf8')).toBe(BACKUP_BYTES)
  })

  it('delete archive hands it to a purge task, which leaves it purged', async () => {
    const a = await json<Archive>('show', 'archive', ids.archive!)
    const file = join(storeDir, ...a.store_key.split('/'))
    expect(existsSync(file)).toBe(true)
    const out = await ok('delete', 'archive', a.uuid)
    const m = new RegExp(
      `^deleted archive ${a.uuid}; purge task (${UUID.source}) removes its data\\n$`,
    ).exec(out)
    expect(m, out).not.toBeNull()
    const purge = m?.[1] ?? ''
    const followed = await cli('show', 'task', purge, '--follow')
    expect(followed.code).toBe(0)
    expect(followed.stdout).toMatch(/^Type: +purge$/m)
    expect(followed.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Task ${purge} done`))
    expect((await json<Archive>('show', 'archive', a.uuid)).status).toBe('purged')
    expect(await ok('show', 'archive', a.uuid)).toMatch(/^Status: +purged$/m)
    expect(
      (await json<Archive[]>('list', 'archives', '--status', 'purged')).map((x) => x.uuid),
    ).toEqual([a.uuid])
    expect(existsSync(file)).toBe(false)
    const again = await cli('restore', 'archive', a.uuid)
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(`bulwark: archive ${a.uuid} is purged and cannot be restored\n`)
  })

  it('lists active tasks by default, cancels a running backup, and --follow sees it end', async () => {
    const uuid = (await ok('run', 'job', 'slow-job')).trim()
    expect(uuid).toMatch(new RegExp(`^${UUID.source}$`))
    await waitForTask(d, uuid, (s) => s === 'running', 10_000)
    // The follower opens the event stream before it reads and prints the task.
    let printed: () => void
    const taskPrinted = new Promise<void>((r) => (printed = r))
    const following = runCli(['show', 'task', uuid, '--follow'], {
      dataDir: d.dataDir,
      onStdout: (out) => out.includes(uuid) && printed(),
    })

    const active = await json<Task[]>('list', 'tasks')
    expect(active.map((t) => t.uuid)).toEqual([uuid])
    expect(rowOf(await ok('list', 'tasks'), uuid.slice(0, 8))).toMatch(
      /^\S+ +backup +running +\S+ +slow-job /,
    )
    const all = await json<Task[]>('list', 'tasks', '--all')
    expect(all.length).toBeGreaterThanOrEqual(6)
    expect(all.map((t) => t.uuid)).toContain(uuid)
    expect(new Set(all.map((t) => t.status))).toEqual(new Set(['done', 'failed', 'running']))
    expect(
      (await json<Task[]>('list', 'tasks', '--status', 'failed')).map((t) => t.job_uuid),
    ).toEqual([ids.brokenJob])

    // The cancel comes once the follower is live: it has printed the task.
    await taskPrinted
    expect(await ok('cancel', 'task', uuid.slice(0, 8))).toBe(
      `canceling task ${uuid}: it was running and ends canceled in a moment\n`,
    )
    const f = await following
    expect(f.code).toBe(1)
    expect(f.stderr).toBe('')
    expect(logLines(f.stdout).some((l) => l.startsWith('cancel requested by '))).toBe(true)
    expect(f.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^Task ${uuid} canceled after \\d+\\.\\d s$`),
    )
    expect((await waitForTask(d, uuid)).status).toBe('canceled')

    expect(await ok('list', 'tasks')).toBe('no pending or running tasks (see all: --all)\n')
    expect(await json('list', 'tasks')).toEqual([])
    expect(rowOf(await ok('list', 'tasks', '--all'), uuid.slice(0, 8))).toMatch(
      /^\S+ +backup +canceled /,
    )
    const twice = await cli('cancel', 'task', uuid)
    expect(twice.code).toBe(1)
    expect(twice.stderr).toMatch(/^bulwark: task \S+ has already finished \(canceled\)[^\n]*\n$/)
    expect(twice.stderr).not.toContain('field')
  }, 20_000)

  it('test target and test store: OK exits 0, FAILED exits 1', async () => {
    expect(await cli('test', 'target', 'hello')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK: .+\n$/),
      stderr: '',
    })
    expect(await cli('test', 'store', 'local')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK: .+\n$/),
      stderr: '',
    })
    const good = await json<ConnectionTest>('test', 'store', ids.store!.slice(0, 8))
    expect(good.ok).toBe(true)
    expect(typeof good.duration_ms).toBe('number')

    await execTarget('unparsable', 'if then fi')
    const badTarget = await cli('test', 'target', 'unparsable')
    expect(badTarget.code).toBe(1)
    expect(badTarget.stdout).toMatch(/^FAILED: the backup command does not parse: .+\n$/)

    const blocker = join(work, 'a-regular-file')
    writeFileSync(blocker, 'not a directory\n')
    await created('store', 'blocked', '--plugin', 'fs', '--set', `path=${join(blocker, 'sub')}`)
    const badStore = await cli('test', 'store', 'blocked')
    expect(badStore.code).toBe(1)
    expect(badStore.stderr).toBe('')
    expect(badStore.stdout).toMatch(/^FAILED: .+\n$/)
    expect(badStore.stdout).toContain(blocker)
    const badJson = await cli('test', 'store', 'blocked', '--json')
    expect(badJson.code).toBe(1)
    expect(JSON.parse(badJson.stdout)).toMatchObject({ ok: false, message: expect.any(String) })
  })

  it('reports unknown things without a field, and documents --follow', async () => {
    expect(await cli('show', 'archive', MISSING_UUID)).toEqual({
      code: 1,
      stdout: '',
      stderr: `bulwark: no archive with uuid ${MISSING_UUID}\n`,
    })
    expect(await cli('show', 'task', MISSING_UUID, '--follow')).toEqual({
      code: 1,
      stdout: '',
      stderr: `bulwark: no task with uuid ${MISSING_UUID}\n`,
    })
    expect((await cli('test', 'target', MISSING_UUID)).stderr).toBe(
      `bulwark: no target with uuid ${MISSING_UUID}\n`,
    )
    const help = await ok('show', 'task', '--help')
    expect(help).toMatch(/^ +--follow +.*Ctrl-C stops following; the task keeps running.*also -f$/m)
    expect(await ok('run', 'job', '--help')).toContain('--follow')
    expect(await ok('restore', 'archive', '--help')).toContain('--follow')
  })
})

describe('bulwark against a scripted daemon (in process)', () => {
  const TASK = '11111111-2222-4333-8444-555555555555'
  const task = (over: Partial<Task>): Task => ({
    uuid: TASK,
    owner: 'bob',
    type: 'backup',
    job_uuid: null,
    archive_uuid: null,
    target_uuid: null,
    store_uuid: null,
    status: 'running',
    priority: 50,
    requested_at: '2030-01-01T00:00:00.000Z',
    started_at: '2030-01-01T00:00:00.000Z',
    stopped_at: null,
    bytes: 0,
    progress: null,
    error: null,
    log: '',
    log_lines: 0,
    ...over,
  })
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

  async function run(args: string[], respond: (method: string, path: string) => Response) {
    let stdout = ''
    let stderr = ''
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input))
      return respond(init?.method ?? 'GET', url.pathname + url.search)
    }) as typeof fetch
    const code = await runCliInProcess([...args, '--url', 'http://bulwark.test', '--token', 't'], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: {},
      fetch: fetchImpl,
    })
    return { code, stdout, stderr }
  }

  it('leaves out "field: uuid" on 404 and 409, as older daemons sent it, but keeps real fields', async () => {
    const notFound = await run(['show', 'archive', MISSING_UUID], () =>
      json(404, {
        error: {
          code: 'not_found',
          message: `no archive with uuid ${MISSING_UUID}`,
          field: 'uuid',
        },
      }),
    )
    expect(notFound).toEqual({
      code: 1,
      stdout: '',
      stderr: `bulwark: no archive with uuid ${MISSING_UUID}\n`,
    })
    const conflict = await run(['cancel', 'task', TASK], () =>
      json(409, { error: { code: 'conflict', message: 'already finished', field: 'uuid' } }),
    )
    expect(conflict.stderr).toBe('bulwark: already finished\n')
    const invalid = await run(['create', 'store', '--name', 's', '--plugin', 'fs'], (_m, path) =>
      path.startsWith('/v1/plugin/')
        ? json(404, { error: { code: 'not_found', message: 'no such plugin' } })
        : json(400, {
            error: { code: 'validation', message: 'path is required', field: 'endpoint.path' },
          }),
    )
    expect(invalid.stderr).toBe('bulwark: path is required (field: endpoint.path)\n')
  })

  /** A daemon whose stream replays a stale status and a line already in the log, then closes. */
  const script = (gets: Task[]) => {
    const first = '2030-01-01T00:00:01.000Z'
    const events: DaemonEvent[] = [
      { type: 'heartbeat', at: first },
      { type: 'task', uuid: TASK, status: 'pending', progress: null, bytes: 0 },
      { type: 'task-log', uuid: TASK, seq: 1, line: 'started', at: first },
      { type: 'task-log', uuid: 'someone-else', seq: 1, line: 'not ours', at: first },
      { type: 'task-log', uuid: TASK, seq: 2, line: 'started', at: '2030-01-01T00:00:02.000Z' },
      { type: 'task-log', uuid: TASK, seq: 3, line: 'out of disk', at: '2030-01-01T00:00:03.000Z' },
    ]
    const sse = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')
    return (_method: string, path: string) => {
      if (path === '/v1/events') {
        return new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } })
      }
      if (path === `/v1/task/${TASK}`) return json(200, gets.shift())
      return json(404, { error: { code: 'not_found', message: `nothing at ${path}` } })
    }
  }
  const before = task({ log: '2030-01-01T00:00:01.000Z started\n', log_lines: 1 })
  const after = task({
    status: 'failed',
    stopped_at: '2030-01-01T00:00:04.000Z',
    error: 'out of disk',
    log: '',
    log_lines: 3,
  })

  it('--follow skips what it already printed and stale events, and ends even if the stream does', async () => {
    const r = await run(['show', 'task', TASK, '--follow'], script([before, after]))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(1)
    const log = r.stdout.slice(r.stdout.indexOf('\nLog:\n'))
    expect(log).toBe(
      '\nLog:\n' +
        '  2030-01-01T00:00:01.000Z started\n' +
        '  2030-01-01T00:00:02.000Z started\n' +
        '  2030-01-01T00:00:03.000Z out of disk\n' +
        `\nTask ${TASK} failed after 4.0 s: out of disk\n`,
    )

    const j = await run(['show', 'task', TASK, '--follow', '--json'], script([before, after]))
    expect(j.code).toBe(1)
    const lines = j.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => l.type)).toEqual(['backup', 'task-log', 'task-log', 'task'])
    expect(lines.at(-1)).toEqual({
      type: 'task',
      uuid: TASK,
      status: 'failed',
      progress: null,
      bytes: 0,
    })
  })

  it('--follow says how to follow again when the stream closes while the task still runs', async () => {
    const r = await run(['show', 'task', TASK, '-f'], script([before, task({})]))
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `bulwark: the daemon closed its event stream while task ${TASK} is running; ` +
        `follow it again with:  bulwark show task ${TASK} --follow\n`,
    )
  })
})
