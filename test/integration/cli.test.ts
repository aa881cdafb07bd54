// The real `bulwark` binary (bin/bulwark.js → out/main/cli.js) against a real
// daemon: the README walkthrough with the CLI alone, refs, secrets, every
// noun, filters, and the error messages a person sees.
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Job, Schedule, SchedulePreviewResult, Target, Task } from '../../src-daemon/contract'
import { ROOT, runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'

// Each test runs tens of CLI processes (about half a second each); on two
// busy cores that can pass 30 s.
vi.setConfig({ testTimeout: 120_000 })

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const MISSING_UUID = '00000000-0000-4000-8000-000000000000'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  await new Promise((r) => server.close(r))
  return typeof address === 'object' && address ? address.port : 1
}

describe('bulwark without a daemon', () => {
  it('says none is running for the data dir and how to start one', async () => {
    const dir = tempDir('bulwark-cli-')
    const r = await runCli(['list', 'jobs'], { dataDir: dir })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `bulwark: no Bulwark daemon is running for ${dir} (no daemon.json there).\n` +
        `Start one with:  npm start   (or: bulwark daemon --data-dir ${dir})\n`,
    )
    const other = tempDir('bulwark-cli-')
    const flagged = await runCli(['--data-dir', other, 'status'], { dataDir: dir })
    expect(flagged.code).toBe(1)
    expect(flagged.stderr).toContain(`for ${other} (no daemon.json there)`)
  })

  it('says so when daemon.json names a daemon that no longer answers', async () => {
    const dir = tempDir('bulwark-cli-')
    const url = `http://127.0.0.1:${await closedPort()}`
    writeFileSync(
      join(dir, 'daemon.json'),
      JSON.stringify({ url, pid: 1, version: '0', started_at: '' }),
    )
    writeFileSync(join(dir, 'token'), 'x\n')
    const r = await runCli(['status'], { dataDir: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      new RegExp(
        `^bulwark: no Bulwark daemon is running for ${dir} \\(daemon.json names ${url}, but nothing answers there`,
      ),
    )
    expect(r.stderr).toContain('npm start')
    const viaUrl = await runCli(['--url', url, 'ping'], { dataDir: dir })
    expect(viaUrl.code).toBe(1)
    expect(viaUrl.stderr).toContain(`no Bulwark daemon answers at ${url} (from --url)`)
  })

  it('prints help and the version, and rejects bad command lines with exit 2', async () => {
    const dir = tempDir('bulwark-cli-')
    const [help, cmdHelp, version, noArgs, typoCmd, typoFlag, missing, typoNoun] =
      await Promise.all([
        runCli(['help'], { dataDir: dir }),
        runCli(['create', 'target', '--help'], { dataDir: dir }),
        runCli(['--version'], { dataDir: dir }),
        runCli([], { dataDir: dir }),
        runCli(['lsit', 'targets'], { dataDir: dir }),
        runCli(['create', 'target', '--nmae', 'x', '--plugin', 'files'], { dataDir: dir }),
        runCli(['show', 'target'], { dataDir: dir }),
        runCli(['list', 'tragets', '--json'], { dataDir: dir }),
      ])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('bulwark daemon --help')
    expect(help.stdout).toContain('paused job REF')
    expect(cmdHelp.code).toBe(0)
    expect(cmdHelp.stdout).toMatch(/^Usage: {2}bulwark create target --name NAME --plugin PLUGIN/)
    expect(cmdHelp.stdout).toContain('--agent NAME')
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(version).toMatchObject({ code: 0, stdout: `bulwark ${pkg.version}\n` })
    expect(noArgs.code).toBe(2)
    expect(noArgs.stderr).toContain('Usage:')
    expect(typoCmd.code).toBe(2)
    expect(typoCmd.stderr).toContain('unknown command "lsit"; did you mean "list"?')
    expect(typoFlag.code).toBe(2)
    expect(typoFlag.stderr).toContain(
      'unknown flag --nmae for "create target"; did you mean --name?',
    )
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('missing REF for "show target"')
    expect(typoNoun.code).toBe(2)
    expect(typoNoun.stderr).toContain('did you mean "targets"?')
    for (const r of [typoCmd, typoFlag, missing, typoNoun]) expect(r.stdout).toBe('')
    // Flags are checked before the daemon is looked for: usage errors win over "no daemon".
    const [both, badDuration] = await Promise.all([
      runCli(['list', 'tasks', '--all', '--status', 'done'], { dataDir: dir }),
      runCli(['create', 'retention', '--name', 'r', '--expires', 'soon'], { dataDir: dir }),
    ])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('--all and --status cannot be used together')
    expect(badDuration.code).toBe(2)
    expect(badDuration.stderr).toContain('--expires "soon" is not a duration')
  })
})

describe('bulwark against a daemon', () => {
  let d: RunningDaemon
  const storeDir = tempDir('bulwark-cli-store-')
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
  async function fails(code: number, ...args: string[]): Promise<string> {
    const r = await cli(...args)
    expect(r.code, `bulwark ${args.join(' ')}: ${r.stderr}`).toBe(code)
    expect(r.stdout).toBe('')
    return r.stderr
  }
  async function created(kind: string, name: string, ...args: string[]): Promise<string> {
    const out = await ok('create', kind, '--name', name, ...args)
    const m = new RegExp(
      `^created ${kind === 'retention' ? 'retention policy' : kind} "${name}" (${UUID.source})\\n$`,
    ).exec(out)
    expect(m, out).not.toBeNull()
    return m?.[1] ?? ''
  }
  const rowOf = (table: string, name: string) =>
    table.split('\n').find((l) => l.split(/\s{2,}/).includes(name)) ?? ''

  beforeAll(async () => {
    d = await startDaemon()
  })
  afterAll(async () => {
    await d?.stop()
  })

  it(
    'walks through the README: store, target, schedule, retention, job, run',
    {
      timeout: 120_000,
    },
    async () => {
      expect(await ok('ping')).toMatch(/^pong: bulwark daemon \S+ at http:\/\/127\.0\.0\.1:\d+\n$/)
      const plugins = await ok('list', 'plugins')
      for (const name of ['fs', 'postgres', 'files']) expect(rowOf(plugins, name)).not.toBe('')

      ids.store = await created(
        'store',
        'local',
        '--plugin',
        'fs',
        '--set',
        `path=${storeDir}`,
        '--summary',
        'local disk',
      )
      ids.target = await created(
        'target',
        'pg',
        '--plugin',
        'postgres',
        '--set',
        'host=db.internal',
        '--set',
        'port=5432',
        '--set',
        'password=s3cret-pw',
        '--set',
        'database=app',
      )
      ids.schedule = await created(
        'schedule',
        'nightly',
        '--when',
        'daily 4am',
        '--timezone',
        'UTC',
      )
      ids.retention = await created('retention', 'week', '--expires', '7d')
      ids.job = await created(
        'job',
        'pg-nightly',
        '--target',
        'pg',
        '--store',
        'local',
        '--schedule',
        'nightly',
        '--retention',
        'week',
      )

      const jobs = await ok('list', 'jobs')
      expect(jobs.split('\n')[0]).toMatch(
        /^UUID\s+NAME\s+PAUSED\s+TARGET\s+STORE\s+SCHEDULE\s+RETENTION\s+NEXT RUN\s+LAST$/,
      )
      expect(
        rowOf(jobs, 'pg-nightly')
          .split(/\s{2,}/)
          .slice(0, 7),
      ).toEqual([ids.job.slice(0, 8), 'pg-nightly', 'no', 'pg', 'local', 'nightly', 'week'])
      const [job] = await json<Job[]>('list', 'jobs')
      expect(job).toMatchObject({
        uuid: ids.job,
        target_uuid: ids.target,
        store_uuid: ids.store,
        schedule_uuid: ids.schedule,
        retention_uuid: ids.retention,
        paused: false,
        expiry: 604800,
      })
      expect(rowOf(await ok('list', 'stores'), 'local')).toContain(`path=${storeDir}`)
      const targets = await ok('list', 'targets')
      expect(rowOf(targets, 'pg')).toMatch(/host=db\.internal port=5432 .*password=<redacted>/)
      expect(targets).not.toContain('s3cret-pw')
      expect(rowOf(await ok('list', 'schedules'), 'nightly')).toContain('daily 4am')
      expect(rowOf(await ok('list', 'retention', 'policies'), 'week')).toMatch(/week\s+1w/)

      const taskUuid = (await ok('run', 'job', 'pg-nightly', '--owner', 'alice')).trim()
      expect(taskUuid).toMatch(new RegExp(`^${UUID.source}$`))
      const task = await json<Task>('show', 'task', taskUuid)
      expect(task).toMatchObject({
        uuid: taskUuid,
        job_uuid: ids.job,
        owner: 'alice',
        type: 'backup',
      })
      // The task really runs (and fails: db.internal does not resolve); once it has
      // ended it leaves the default list of active tasks. cli-engine.test.ts lists a running one.
      await waitForTask(d, taskUuid)
      const active = await json<Task[]>('list', 'tasks')
      for (const t of active) expect(['pending', 'running']).toContain(t.status)
      expect(active.map((t) => t.uuid)).not.toContain(taskUuid)
      expect(rowOf(await ok('list', 'tasks', '--all'), taskUuid.slice(0, 8))).toContain(
        'pg-nightly',
      )
      expect((await json<Task[]>('list', 'tasks', '--all')).map((t) => t.uuid)).toContain(taskUuid)
      expect((await json<Task[]>('list', 'tasks', '--job', 'pg-nightly', '--all'))[0]?.uuid).toBe(
        taskUuid,
      )
      expect(await ok('show', 'task', taskUuid.slice(0, 8))).toMatch(
        /^UUID: +[\s\S]*Owner: +alice\n/m,
      )
    },
  )

  it('resolves refs by uuid, unique prefix and exact name', async () => {
    for (const ref of [
      ids.store,
      ids.store!.slice(0, 6),
      ids.store!.toUpperCase().slice(0, 8),
      'local',
    ]) {
      expect(await ok('show', 'store', ref!)).toMatch(/^UUID: +.*\nName: +local\n/)
    }
    expect(await fails(1, 'show', 'target', 'nope')).toBe(
      'bulwark: no target matches "nope"; known targets: pg\n',
    )
    expect(await fails(1, 'show', 'job', 'pg-nightli')).toContain('did you mean "pg-nightly"?')
    expect(await fails(1, 'show', 'store', 'ab')).toContain('at least 4 characters')
    const api404 = await d.api<{ error: { message: string } }>('GET', `/v1/target/${MISSING_UUID}`)
    expect(api404.status).toBe(404)
    expect(await fails(1, 'show', 'target', MISSING_UUID)).toContain(
      `bulwark: ${api404.body.error.message}`,
    )

    const a = await created('schedule', 'dup', '--when', 'daily 1am')
    const b = await created('schedule', 'dup', '--when', 'daily 2am')
    const ambiguous = await fails(1, 'show', 'schedule', 'dup')
    expect(ambiguous).toContain('2 schedules are named "dup"; use more of the uuid:')
    expect(ambiguous).toContain(a)
    expect(ambiguous).toContain(b)
    expect(await ok('delete', 'schedule', a)).toBe(`deleted schedule ${a}\n`)
    expect(await ok('delete', 'schedule', 'dup')).toBe(`deleted schedule "dup" (${b})\n`)
  })

  it('edits a target without losing or showing its secret', async () => {
    expect(
      await ok('edit', 'target', 'pg', '--set', 'password=new-secret', '--summary', 'prod db'),
    ).toBe(`updated target "pg" (${ids.target})\n`)
    const shown = await ok('show', 'target', 'pg')
    expect(shown).toMatch(/^Summary: +prod db$/m)
    expect(shown).toMatch(/password: +<redacted>$/m)
    expect(shown).not.toMatch(/s3cret-pw|new-secret/)
    await ok('edit', 'target', 'pg', '--set', 'host=db2.internal')
    const t = await json<Target>('show', 'target', 'pg')
    expect(JSON.stringify(t)).not.toMatch(/s3cret-pw|new-secret/)
    expect(JSON.parse(t.endpoint)).toEqual({
      host: 'db2.internal',
      port: 5432,
      user: 'postgres',
      password: '<redacted>',
      database: 'app',
      all_databases: false,
      exclude_databases: [],
      connect_timeout: 15,
    })
    expect(t.summary).toBe('prod db')

    expect(await fails(2, 'edit', 'target', 'pg')).toContain('nothing to change')
    expect(await fails(2, 'edit', 'target', 'pg', '--set', 'pasword=x')).toContain(
      'plugin "postgres" has no field "pasword"; did you mean password?',
    )
    expect(await fails(2, 'edit', 'target', 'pg', '--set', 'port=abc')).toContain(
      '"abc" is not a whole number',
    )
    expect(await fails(2, 'edit', 'target', 'pg', '--endpoint', '{bad')).toContain(
      '--endpoint is not valid JSON',
    )
  })

  it('lists, shows, creates, edits and deletes stores and targets', async () => {
    const s2 = await created(
      'store',
      'spare',
      '--plugin',
      'fs',
      '--endpoint',
      JSON.stringify({ path: tempDir('bulwark-cli-spare-') }),
    )
    expect(await ok('edit', 'store', 'spare', '--name', 'spare2', '--summary', 'second')).toContain(
      'updated store "spare2"',
    )
    expect(await ok('show', 'store', s2.slice(0, 8))).toMatch(
      /Name: +spare2\nSummary: +second\nPlugin: +fs\nEndpoint: +path: +/,
    )
    expect(rowOf(await ok('list', 'stores', '--unused'), 'spare2')).not.toBe('')
    expect(rowOf(await ok('list', 'stores', '--unused'), 'local')).toBe('')
    expect((await json<{ name: string }[]>('list', 'stores', '--used')).map((s) => s.name)).toEqual(
      ['local'],
    )
    expect(await fails(2, 'list', 'stores', '--used', '--unused')).toContain(
      'cannot be used together',
    )
    expect(await ok('delete', 'store', 'spare2')).toBe(`deleted store "spare2" (${s2})\n`)
    expect(await fails(1, 'show', 'store', s2)).toMatch(/^bulwark: .+/)

    const files = await created(
      'target',
      'docs',
      '--plugin',
      'files',
      '--set',
      'path=/srv/docs',
      '--set',
      'exclude=*.tmp,cache',
    )
    // A target naming an agent that does not exist is refused, with the field.
    expect(
      await fails(
        1,
        'create',
        'target',
        '--name',
        'remote',
        '--plugin',
        'files',
        '--set',
        'path=/srv/x',
        '--agent',
        '10.0.0.5:5444',
      ),
    ).toMatch(/no agent named "10\.0\.0\.5:5444".*\(field: agent\)/s)
    expect(JSON.parse((await json<Target>('show', 'target', 'docs')).endpoint)).toMatchObject({
      path: '/srv/docs',
      exclude: ['*.tmp', 'cache'],
    })
    expect(
      (await json<Target[]>('list', 'targets', '--plugin', 'files')).map((t) => t.uuid),
    ).toEqual([files])
    await ok('edit', 'target', 'docs', '--unset', 'exclude', '--name', 'docs2')
    expect(
      JSON.parse((await json<Target>('show', 'target', 'docs2')).endpoint).exclude ?? [],
    ).toEqual([])
    expect((await json<Target>('show', 'target', 'docs2')).agent).toBe('')
    expect(await json('delete', 'target', 'docs2')).toEqual({ ok: 'deleted' })
    expect(await ok('list', 'targets', '--plugin', 'files')).toBe('no targets\n')
  })

  it('lists, shows, creates, edits, deletes and previews schedules', async () => {
    const uuid = await created(
      'schedule',
      'weekly',
      '--when',
      'sundays 8am',
      '--summary',
      'weekends',
    )
    expect(await ok('show', 'schedule', 'weekly')).toMatch(
      /When: +sundays 8am\nMeans: +\S.*\nTimezone: +\S+\nNext run: +\d{4}-\d\d-\d\d \d\d:\d\d\n/,
    )
    await ok('update', 'schedule', 'weekly', '--when', '30 2 * * *', '--timezone', 'Europe/Paris')
    expect(await json<Schedule>('show', 'schedule', uuid)).toMatchObject({
      name: 'weekly',
      when: '30 2 * * *',
      timezone: 'Europe/Paris',
      summary: 'weekends',
    })
    expect((await json<Schedule[]>('list', 'schedules', '--unused')).map((s) => s.name)).toContain(
      'weekly',
    )
    expect((await json<Schedule[]>('list', 'schedules', '--used')).map((s) => s.name)).toEqual([
      'nightly',
    ])
    const preview = await json<SchedulePreviewResult>(
      'preview',
      'schedule',
      '--when',
      'daily 4am',
      '--count',
      '3',
    )
    expect(preview.next).toHaveLength(3)
    expect(await ok('preview', 'schedule', '--when', 'hourly at 15')).toMatch(
      /Next runs: +\d{4}-\d\d-\d\d \d\d:\d\d +[A-Z][a-z]{2}\n/,
    )
    expect(await fails(1, 'create', 'schedule', '--name', 'x', '--when', 'whenever')).toMatch(
      /^bulwark: .+ \(field: when\)\n$/,
    )
    expect(await ok('delete', 'schedule', 'weekly')).toContain('deleted schedule')
  })

  it('lists, shows, creates, edits and deletes retention policies', async () => {
    const uuid = await created('retention', 'short', '--expires', '12h')
    expect(await ok('show', 'retention', 'policy', 'short')).toMatch(
      /Expires: +12h \(43200 seconds\)/,
    )
    await ok('edit', 'policy', 'short', '--expires', '2d', '--summary', 'two days')
    expect(await json('show', 'retention', uuid)).toMatchObject({
      expires: 172800,
      summary: 'two days',
    })
    expect(await fails(2, 'create', 'retention', '--name', 'x', '--expires', '10m')).toContain(
      'at least 1h',
    )
    expect(await fails(2, 'create', 'retention', '--name', 'x', '--expires', 'soon')).toContain(
      'is not a duration',
    )
    expect(await ok('delete', 'retention', 'policy', 'short')).toContain(
      'deleted retention policy "short"',
    )
  })

  it('edits, pauses, unpauses and deletes jobs, and filters the job list', async () => {
    expect(await cli('paused', 'job', 'pg-nightly')).toMatchObject({
      code: 1,
      stdout: 'no\n',
      stderr: '',
    })
    expect(await ok('pause', 'job', 'pg-nightly')).toBe(`paused job "pg-nightly" (${ids.job})\n`)
    expect(await cli('paused', 'job', ids.job!.slice(0, 5))).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    })
    expect((await json<Job[]>('list', 'jobs', '--paused')).map((j) => j.name)).toEqual([
      'pg-nightly',
    ])
    expect(await ok('list', 'jobs', '--unpaused')).toBe('no jobs\n')
    await ok('unpause', 'job', 'pg-nightly')
    expect(await cli('paused', 'job', 'pg-nightly')).toMatchObject({ code: 1, stdout: 'no\n' })

    await created('schedule', 'hourly', '--when', 'hourly at 5')
    const extra = await created(
      'job',
      'pg-hourly',
      '--target',
      'pg',
      '--store',
      'local',
      '--schedule',
      'hourly',
      '--retention',
      'week',
      '--paused',
      '--priority',
      '10',
      '--summary',
      'often',
    )
    expect(await json('show', 'job', 'pg-hourly')).toMatchObject({
      paused: true,
      priority: 10,
      summary: 'often',
    })
    expect((await json<Job[]>('list', 'jobs', '--schedule', 'hourly')).map((j) => j.uuid)).toEqual([
      extra,
    ])
    expect(
      (await json<Job[]>('list', 'jobs', '--target', 'pg', '--retention-policy', 'week')).length,
    ).toBe(2)
    await ok('edit', 'job', 'pg-hourly', '--schedule', 'nightly', '--priority', '20', '--unpaused')
    expect(await json('show', 'job', extra)).toMatchObject({
      schedule_name: 'nightly',
      priority: 20,
      paused: false,
      summary: 'often',
    })
    expect(await ok('show', 'job', 'pg-hourly')).toMatch(/Schedule: +nightly: daily 4am \(UTC, /)
    expect(await ok('list', 'jobs', '--schedule', 'hourly')).toBe('no jobs\n')
    expect(await fails(2, 'edit', 'job', 'pg-hourly', '--priority', 'high')).toContain(
      '--priority "high" is not a whole number',
    )
    expect(await fails(2, 'list', 'jobs', '--paused', '--unpaused')).toContain(
      'cannot be used together',
    )
    expect(await ok('delete', 'job', 'pg-hourly')).toBe(`deleted job "pg-hourly" (${extra})\n`)
    expect(await ok('delete', 'schedule', 'hourly')).toContain('deleted schedule')
  })

  it('gives a job a verify schedule, shows it, and takes it away', async () => {
    await created('schedule', 'weekly', '--when', 'weekly at 3am on sundays', '--timezone', 'UTC')
    const parts = [
      '--target',
      'pg',
      '--store',
      'local',
      '--schedule',
      'nightly',
      '--retention',
      'week',
    ]
    expect(
      await fails(1, 'create', 'job', '--name', 'x', ...parts, '--verify-schedule', 'nope'),
    ).toContain('no schedule matches "nope"')
    const job = await created('job', 'pg-verified', ...parts, '--verify-schedule', 'weekly')
    expect(await json<Job>('show', 'job', job)).toMatchObject({
      verify_schedule_name: 'weekly',
      verify_schedule: 'weekly at 3am on sundays',
      verify_timezone: 'UTC',
    })
    expect(await ok('show', 'job', 'pg-verified')).toMatch(
      /\nVerify: +weekly: weekly at 3am on sundays \(UTC, [0-9a-f-]{36}\)\nNext verify: +\d{4}-\d\d-\d\d \d\d:\d\d\n/,
    )
    expect(await fails(1, 'delete', 'schedule', 'weekly')).toContain('pg-verified')
    await ok('edit', 'job', 'pg-verified', '--priority', '30')
    expect((await json<Job>('show', 'job', job)).verify_schedule_name).toBe('weekly')
    expect(
      await fails(2, 'edit', 'job', job, '--verify-schedule', 'weekly', '--no-verify-schedule'),
    ).toContain('cannot be used together')
    await ok('edit', 'job', 'pg-verified', '--no-verify-schedule')
    expect(await ok('show', 'job', 'pg-verified')).toMatch(/\nVerify: +not scheduled\n/)
    expect((await json<Job>('show', 'job', job)).verify_schedule_uuid).toBeNull()
    await ok('edit', 'job', 'pg-verified', '--verify-schedule', 'weekly')
    expect((await json<Job>('show', 'job', job)).verify_schedule_name).toBe('weekly')
    await ok('delete', 'job', 'pg-verified')
    await ok('delete', 'schedule', 'weekly')
  })

  it('refuses to delete what a job uses, and shows API validation errors with the field', async () => {
    const store409 = await fails(1, 'delete', 'store', 'local')
    expect(store409).toMatch(/^bulwark: /)
    expect(store409).toContain('pg-nightly')
    expect(await fails(1, 'delete', 'retention', 'week')).toContain('pg-nightly')
    expect(await fails(1, 'create', 'store', '--name', 'bad', '--plugin', 'fs')).toMatch(
      /\(field: endpoint\.path\)\n$/,
    )
    expect(await fails(1, 'create', 'store', '--name', 'bad', '--plugin', 'nope')).toMatch(
      /\(field: plugin\)\n$/,
    )
    expect(await json<unknown[]>('list', 'stores')).toHaveLength(1)
  })

  it('lists and filters archives, and reports unknown ones', async () => {
    expect(await ok('list', 'archives')).toBe('no archives\n')
    expect(
      await json(
        'list',
        'archives',
        '--target',
        'pg',
        '--store',
        'local',
        '--after',
        '20250101',
        '--before',
        '2099-12-31',
        '--status',
        'valid',
      ),
    ).toEqual([])
    expect(await fails(2, 'list', 'archives', '--after', 'yesterday')).toContain(
      '--after "yesterday" is not a date',
    )
    expect(await fails(2, 'list', 'archives', '--status', 'bogus')).toContain(
      '--status must be one of valid',
    )
    const api404 = await d.api<{ error: { message: string } }>('GET', `/v1/archive/${MISSING_UUID}`)
    expect(await fails(1, 'show', 'archive', MISSING_UUID)).toBe(
      `bulwark: ${api404.body.error.message}\n`,
    )
    expect(await fails(1, 'show', 'archive', 'abcd1234')).toContain(
      'no archive matches "abcd1234" (there are no archives)',
    )
    expect(await fails(2, 'edit', 'archive', MISSING_UUID)).toContain('missing --notes')
    expect(await fails(1, 'restore', 'archive', MISSING_UUID, '--to', 'nope')).toContain(
      'no target matches "nope"',
    )
  })

  it('filters and cancels tasks', async () => {
    const taskUuid = (await ok('run', 'job', ids.job!)).trim()
    expect(await fails(2, 'list', 'tasks', '--status', 'bogus')).toContain(
      '--status must be one of pending',
    )
    const all = await json<Task[]>('list', 'tasks', '--status', 'all')
    expect(all.map((t) => t.uuid)).toContain(taskUuid)
    const status = (await json<Task>('show', 'task', taskUuid)).status
    expect((await json<Task[]>('list', 'tasks', '--status', status)).map((t) => t.uuid)).toContain(
      taskUuid,
    )
    if (status === 'pending' || status === 'running') {
      // Tasks really run: this one may have finished (failed: no such host) since.
      const cancel = await cli('cancel', 'task', taskUuid.slice(0, 8))
      if (cancel.code === 0) {
        expect(cancel.stdout).toMatch(new RegExp(`^cancel(ed|ing) task ${taskUuid}`))
        expect((await waitForTask(d, taskUuid)).status).toBe('canceled')
      } else {
        expect(cancel.stderr).toMatch(/^bulwark: task \S+ has already finished/)
      }
    }
    await waitForTask(d, taskUuid)
    const again = await fails(1, 'cancel', 'task', taskUuid)
    expect(again).toMatch(/^bulwark: task \S+ has already finished \((canceled|failed|done)\)/)
    expect(again).not.toContain('(field:')
  })

  it('finds the daemon by --url, BULWARK_URL, --token and --data-dir, and explains a bad token', async () => {
    const empty = tempDir('bulwark-cli-')
    const viaUrl = await runCli(['--url', d.url, '--token', d.token, 'status'], { dataDir: empty })
    expect(viaUrl.code).toBe(0)
    expect(viaUrl.stdout).toContain(`Data dir:   ${d.dataDir}`)
    const viaEnv = await runCli(['status', '--json'], {
      dataDir: empty,
      env: { BULWARK_URL: d.url, BULWARK_TOKEN: d.token },
    })
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({
      data_dir: d.dataDir,
      counts: { jobs: 1, stores: 1 },
    })
    const viaDir = await runCli(['list', 'jobs', '--data-dir', d.dataDir], { dataDir: empty })
    expect(rowOf(viaDir.stdout, 'pg-nightly')).not.toBe('')

    const bad = await cli('--token', 'wrong', 'status')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(
      'rejected the API token (401 unauthorized): the token came from --token',
    )
    const badEnv = await runCli(['list', 'jobs'], {
      dataDir: d.dataDir,
      env: { BULWARK_TOKEN: 'wrong' },
    })
    expect(badEnv.stderr).toContain('the token came from BULWARK_TOKEN')
    const noToken = await runCli(['--url', d.url, 'list', 'jobs'], { dataDir: empty })
    expect(noToken.stderr).toContain('no token was given')
    expect(await runCli(['--url', d.url, 'ping'], { dataDir: empty })).toMatchObject({ code: 0 })
  })

  it('shows plugins with their fields', async () => {
    const pg = await ok('show', 'plugin', 'postgres')
    expect(pg).toMatch(/^Name: +postgres\nKind: +target\n/)
    expect(pg).toMatch(/^ +NAME +TYPE +REQUIRED +SECRET +DEFAULT +HELP$/m)
    expect(pg).toMatch(/^ +password +string +no +yes /m)
    expect(pg).toMatch(/^ +database +string +yes +no /m)
    expect(pg).toMatch(/^ +port +integer /m)
    const stores = await json<{ name: string; kind: string }[]>(
      'list',
      'plugins',
      '--kind',
      'store',
    )
    expect(stores.map((p) => p.name)).toContain('fs')
    expect(stores.map((p) => p.name)).not.toContain('postgres')
    expect(new Set(stores.map((p) => p.kind))).toEqual(new Set(['store']))
    expect(await fails(1, 'show', 'plugin', 'nope')).toMatch(/^bulwark: .+/)
    expect(await fails(2, 'list', 'plugins', '--kind', 'both')).toContain(
      '--kind must be target or store',
    )
  })
})
