// Hooks around a backup, run by the real daemon: a before hook runs before
// the target is read (its marker is in the restored archive), hooks get the
// job's context and none of the daemon's secrets, an essential before hook's
// failure fails the backup with no archive and runs on_failure, an optional
// one's is a warning, a timeout or a cancel kills the hook and what it
// started, and an essential after hook's failure fails the task but keeps the
// archive valid.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'

const VAULT_PASSWORD = 'hooks-vault-password-7c1'
const PG_PASSWORD = 'hooks-pg-password-4e9'

let d: RunningDaemon
let base: string
let out: string
let src: string
const refs = { target: '', store: '', schedule: '', retention: '' }
let n = 0

const created = async (path: string, body: unknown): Promise<string> => {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

/** A job backing up `src` into the vault store with these hooks. */
const jobWith = (hooks: unknown) =>
  created('/v1/jobs', { name: `hooks-${++n}`, ...refs, hooks, paused: true })

const run = (job: string) => runTask(d, `/v1/job/${job}/run`)

/** `env` output as name → value (values here are one line each). */
function readEnv(file: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return vars
}

/** Whether a process is alive (a zombie nobody has reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\S+ \(.*\) [ZX]/.test(stat)
  } catch {
    return false
  }
}

async function waitForLog(task: string, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const t = (await d.api('GET', `/v1/task/${task}`)).body
    if (t.log.includes(text)) return
    if (Date.now() > deadline) throw new Error(`no "${text}" in the log of ${task}:\n${t.log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const archivesOf = async (job: string) => (await d.api('GET', `/v1/archives?job=${job}`)).body

beforeAll(async () => {
  base = tempDir('bulwark-hooks-')
  out = join(base, 'out')
  src = join(base, 'src')
  mkdirSync(out)
  mkdirSync(src)
  writeFileSync(join(src, 'data.txt'), 'the data\n')
  d = await startDaemon({
    env: {
      // A secret by its name, one by its value (the store's vault password), and a plain one.
      PGPASSWORD: PG_PASSWORD,
      HOOKS_TEST_HOLDS: VAULT_PASSWORD,
      HOOKS_TEST_PLAIN: 'visible',
      HOOKS_API_KEY: 'hooks-api-key-9d2',
      GIT_AUTHOR_NAME: 'not a secret',
    },
  })
  refs.store = await created('/v1/stores', {
    name: 'vaulted',
    plugin: 'fs',
    endpoint: { path: join(base, 'store'), vault_password: VAULT_PASSWORD },
  })
  refs.target = await created('/v1/targets', {
    name: 'site files',
    plugin: 'files',
    endpoint: { path: src },
  })
  // A target the jobs do not use, whose password the daemon now knows as a secret.
  await created('/v1/targets', {
    name: 'db',
    plugin: 'postgres',
    endpoint: { host: '127.0.0.1', user: 'app', password: PG_PASSWORD, database: 'app' },
  })
  refs.schedule = await created('/v1/schedules', {
    name: 'weekly',
    when: 'weekly at 2am on sundays',
  })
  refs.retention = await created('/v1/retention', { name: 'day', expires: 86400 })
})
afterAll(async () => {
  await d?.stop()
})

it('runs before hooks before the target is read, and gives hooks the job context but no secret', async () => {
  const job = await jobWith({
    before: [
      {
        command: `echo hello from before; echo "$BULWARK_TASK_UUID" > '${src}/marker'; env > '${out}/env-before'`,
      },
      { command: 'echo to stderr >&2' },
    ],
    after: [{ command: `env > '${out}/env-after'` }],
  })
  const task = await run(job)
  expect(task.status, task.log).toBe('done')
  expect(task.log).toContain('hook before[0]: hello from before')
  expect(task.log).toContain('hook before[1]: to stderr')
  expect(task.log.indexOf('hook before[1] finished')).toBeLessThan(
    task.log.indexOf(`archive ${task.archive_uuid} stored`),
  )

  // The marker this run's hook wrote is in this run's archive.
  const into = join(base, 'restored')
  const restoreTarget = await created('/v1/targets', {
    name: 'restore here',
    plugin: 'files',
    endpoint: { path: into },
  })
  const restored = await runTask(d, `/v1/archive/${task.archive_uuid}/restore`, {
    target: restoreTarget,
  })
  expect(restored.status, restored.log).toBe('done')
  expect(readFileSync(join(into, 'marker'), 'utf8').trim()).toBe(task.uuid)

  const before = readEnv(join(out, 'env-before'))
  const jobName = (await d.api('GET', `/v1/job/${job}`)).body.name
  expect(before).toMatchObject({
    BULWARK_JOB_NAME: jobName,
    BULWARK_JOB_UUID: job,
    BULWARK_TASK_UUID: task.uuid,
    BULWARK_TARGET_NAME: 'site files',
    BULWARK_TARGET_PLUGIN: 'files',
    BULWARK_STORE_NAME: 'vaulted',
    BULWARK_HOOK: 'before',
    HOOKS_TEST_PLAIN: 'visible',
  })
  expect(before.BULWARK_STATUS).toBeUndefined()
  expect(before.PGPASSWORD).toBeUndefined()
  expect(before.HOOKS_TEST_HOLDS).toBeUndefined()
  expect(before.HOOKS_API_KEY).toBeUndefined()
  expect(before.GIT_AUTHOR_NAME).toBe('not a secret')
  const after = readEnv(join(out, 'env-after'))
  expect(after).toMatchObject({
    BULWARK_HOOK: 'after',
    BULWARK_STATUS: 'done',
    BULWARK_ARCHIVE_UUID: task.archive_uuid,
  })
  for (const file of ['env-before', 'env-after']) {
    const text = readFileSync(join(out, file), 'utf8')
    expect(text).not.toContain(VAULT_PASSWORD)
    expect(text).not.toContain(PG_PASSWORD)
    expect(text).not.toContain(d.token)
  }
})

describe('the API', () => {
  it('fills in defaults, keeps hooks a PUT leaves out, and clears them with {}', async () => {
    const job = await jobWith({
      before: [{ command: 'true' }],
      after: [{ command: 'true', timeout_seconds: 5 }],
      on_failure: [{ command: 'true', essential: true }],
    })
    const get = async () => (await d.api('GET', `/v1/job/${job}`)).body
    expect((await get()).hooks).toEqual({
      before: [{ command: 'true', essential: true, timeout_seconds: 300 }],
      after: [{ command: 'true', essential: false, timeout_seconds: 5 }],
      on_failure: [{ command: 'true', essential: true, timeout_seconds: 300 }],
    })
    const put = (extra: object) =>
      d.api('PUT', `/v1/job/${job}`, { name: `kept-${job}`, summary: '', ...refs, ...extra })
    expect((await put({})).status).toBe(200)
    expect((await get()).hooks.before).toHaveLength(1)
    expect((await put({ hooks: {} })).status).toBe(200)
    expect((await get()).hooks).toEqual({ before: [], after: [], on_failure: [] })
  })

  it('refuses a hook without a command or with a bad timeout, naming the field', async () => {
    const post = (hooks: unknown) =>
      d.api('POST', '/v1/jobs', { name: `bad-${++n}`, ...refs, hooks })
    const blank = await post({ before: [{ command: '   ' }] })
    expect(blank.status).toBe(400)
    expect(blank.body.error.field).toBe('hooks.before[0].command')
    const empty = await post({ after: [{ command: 'true' }, { command: '' }] })
    expect(empty.status).toBe(400)
    // TypeBox's path: hooks.after.1.command (or hooks.after[1].command once the edge words it so).
    expect(empty.body.error.field).toMatch(/^hooks\.after(\.1|\[1\])\.command$/)
    const slow = await post({ before: [{ command: 'true', timeout_seconds: 0 }] })
    expect(slow.status).toBe(400)
    expect(slow.body.error.message).toMatch(/timeout_seconds must be a whole number at least 1/)
    const typo = await post({ before: [{ command: 'true', timeout: 5 }] })
    expect(typo.status).toBe(400)
    expect(typo.body.error.message).toContain('timeout')
  })
})

it('fails the backup when an essential before hook fails: no archive, on_failure told why', async () => {
  const job = await jobWith({
    before: [
      { command: 'echo one; echo the app would not stop >&2; exit 3' },
      { command: `touch '${out}/never'` },
    ],
    on_failure: [{ command: `env > '${out}/env-failed'` }],
  })
  const task = await run(job)
  expect(task.status, task.log).toBe('failed')
  expect(task.error).toBe('hook before[0] exited 3: the app would not stop')
  expect(existsSync(join(out, 'never'))).toBe(false)
  expect(await archivesOf(job)).toEqual([])
  expect(task.log).toContain('hook before[0]: one')
  const vars = readEnv(join(out, 'env-failed'))
  expect(vars).toMatchObject({
    BULWARK_HOOK: 'on_failure',
    BULWARK_STATUS: 'failed',
    BULWARK_ERROR: 'hook before[0] exited 3: the app would not stop',
    BULWARK_JOB_UUID: job,
  })
  expect(vars.BULWARK_ARCHIVE_UUID).toBeUndefined()
})

it('goes on when an optional hook fails, with a warning in the task log', async () => {
  const job = await jobWith({
    before: [{ command: 'echo cache flush failed >&2; exit 2', essential: false }],
  })
  const task = await run(job)
  expect(task.status, task.log).toBe('done')
  expect(task.log).toContain('warning: hook before[0] exited 2: cache flush failed')
  expect(await archivesOf(job)).toHaveLength(1)
})

it('kills a hook that times out, with what it started, and fails within a few seconds', async () => {
  const pidFile = join(out, 'timeout.pid')
  const job = await jobWith({
    before: [{ command: `sleep 1000 & echo $! > '${pidFile}'; wait`, timeout_seconds: 1 }],
  })
  const task = await run(job)
  expect(task.status, task.log).toBe('failed')
  expect(task.error).toBe('hook before[0] timed out after 1 s and was killed')
  const took = Date.parse(task.stopped_at) - Date.parse(task.started_at)
  expect(took).toBeLessThan(1000 + 5000)
  expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false)
  expect(await archivesOf(job)).toEqual([])
})

it('ends canceled when canceled during a long hook, killing it, and runs on_failure', async () => {
  const pidFile = join(out, 'cancel.pid')
  const job = await jobWith({
    before: [{ command: `sleep 1000 & echo $! > '${pidFile}'; echo waiting; wait` }],
    on_failure: [{ command: `env > '${out}/env-canceled'` }],
  })
  const task = (await d.api('POST', `/v1/job/${job}/run`)).body.task_uuid as string
  await waitForLog(task, 'hook before[0]: waiting')
  const pid = Number(readFileSync(pidFile, 'utf8'))
  expect(alive(pid)).toBe(true)
  const asked = Date.now()
  await d.api('DELETE', `/v1/task/${task}?owner=hooks-test`)
  const ended = await waitForTask(d, task)
  expect(ended.status, ended.log).toBe('canceled')
  expect(Date.now() - asked).toBeLessThan(8000)
  expect(alive(pid)).toBe(false)
  expect(readEnv(join(out, 'env-canceled'))).toMatchObject({
    BULWARK_STATUS: 'canceled',
    BULWARK_ERROR: 'canceled by hooks-test',
  })
  expect(await archivesOf(job)).toEqual([])
})

it('keeps the archive when canceled during an after hook, and kills the hook', async () => {
  const pidFile = join(out, 'after.pid')
  const job = await jobWith({
    after: [{ command: `sleep 1000 & echo $! > '${pidFile}'; echo waiting; wait` }],
  })
  const task = (await d.api('POST', `/v1/job/${job}/run`)).body.task_uuid as string
  await waitForLog(task, 'hook after[0]: waiting')
  const pid = Number(readFileSync(pidFile, 'utf8'))
  await d.api('DELETE', `/v1/task/${task}`)
  const ended = await waitForTask(d, task)
  expect(ended.status, ended.log).toBe('canceled')
  expect(alive(pid)).toBe(false)
  expect(ended.log).toContain(`the archive ${ended.archive_uuid} is complete and valid, and stays`)
  expect(ended.log).toContain(
    `backup canceled; its archive ${ended.archive_uuid} was already complete and is kept`,
  )
  expect(ended.log).not.toContain('nothing was kept')
  const archives = await archivesOf(job)
  expect(archives.map((a: any) => [a.uuid, a.status])).toEqual([[ended.archive_uuid, 'valid']])
})

it('fails the task when an essential after hook fails, but keeps the archive valid', async () => {
  const job = await jobWith({
    after: [{ command: 'echo could not restart the app >&2; exit 4', essential: true }],
    on_failure: [{ command: `env > '${out}/env-after-failed'` }],
  })
  const task = await run(job)
  expect(task.status, task.log).toBe('failed')
  expect(task.error).toBe(
    `hook after[0] exited 4: could not restart the app (the archive ${task.archive_uuid} is complete and valid)`,
  )
  expect(task.log).toContain('is complete and valid')
  const archives = await archivesOf(job)
  expect(archives.map((a: any) => [a.uuid, a.status])).toEqual([[task.archive_uuid, 'valid']])
  const verified = await runTask(d, `/v1/archive/${task.archive_uuid}/verify`)
  expect(verified.status, verified.log).toBe('done')
  expect(readEnv(join(out, 'env-after-failed'))).toMatchObject({
    BULWARK_STATUS: 'failed',
    BULWARK_ARCHIVE_UUID: task.archive_uuid,
  })
})

describe('the CLI', () => {
  const cli = async (...args: string[]) => {
    const res = await runCli(args, { dataDir: d.dataDir })
    expect(res.code, res.stderr).toBe(0)
    return res.stdout
  }
  const hooksOf = async (name: string) =>
    JSON.parse(await cli('show', 'job', name, '--json')).hooks as Record<string, unknown[]>

  it('sets hooks with --hook-* flags, replaces a phase on edit, reads a file and removes them', async () => {
    const parts = [
      '--target',
      refs.target,
      '--store',
      refs.store,
      '--schedule',
      'weekly',
      '--retention',
      'day',
    ]
    await cli(
      'create',
      'job',
      '--name',
      'cli-hooks',
      ...parts,
      '--paused',
      '--hook-before',
      'docker stop app',
      '--hook-before',
      'sync',
      '--hook-on-failure',
      'docker start app',
      '--hook-timeout',
      '60',
    )
    expect(await hooksOf('cli-hooks')).toEqual({
      before: [
        { command: 'docker stop app', essential: true, timeout_seconds: 60 },
        { command: 'sync', essential: true, timeout_seconds: 60 },
      ],
      after: [],
      on_failure: [{ command: 'docker start app', essential: false, timeout_seconds: 60 }],
    })
    const shown = await cli('show', 'job', 'cli-hooks')
    expect(shown).toContain('before[1]: sync  (essential, timeout 60 s)')

    await cli('edit', 'job', 'cli-hooks', '--hook-after', 'docker start app')
    const edited = await hooksOf('cli-hooks')
    expect(edited.before).toHaveLength(2)
    expect(edited.after).toEqual([
      { command: 'docker start app', essential: false, timeout_seconds: 300 },
    ])

    const file = join(out, 'hooks.json')
    writeFileSync(
      file,
      JSON.stringify({ after: [{ command: 'notify', essential: true, timeout_seconds: 9 }] }),
    )
    await cli('edit', 'job', 'cli-hooks', '--hooks-file', file)
    expect(await hooksOf('cli-hooks')).toEqual({
      before: [],
      after: [{ command: 'notify', essential: true, timeout_seconds: 9 }],
      on_failure: [],
    })
    await cli('edit', 'job', 'cli-hooks', '--no-hooks')
    expect(await cli('show', 'job', 'cli-hooks')).toMatch(/Hooks:\s+none/)

    writeFileSync(file, JSON.stringify({ before: [{ command: 'x', timeout_seconds: 0 }] }))
    const bad = await runCli(['edit', 'job', 'cli-hooks', '--hooks-file', file], {
      dataDir: d.dataDir,
    })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('timeout_seconds')
  })
})
