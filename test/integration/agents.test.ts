// Remote agents (issue 12) against the built daemon and real `bulwark agent`
// processes: pairing and its refusals, backups and restores of targets that
// run on the agent, only new chunks on the wire, an agent killed mid-backup,
// a daemon restarted under a connected agent, and tasks for an offline agent.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { startAgent, type RunningAgent } from '../helpers/agent'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'
import { waitFor } from '../helpers/wait'
import { PASSWORD, tree } from '../helpers/vault-bench'

const daemons: RunningDaemon[] = []
const agents: RunningAgent[] = []
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop('SIGKILL')
  for (const d of daemons.splice(0)) await d.stop()
})

async function daemon(env: Record<string, string> = {}, dataDir?: string) {
  const d = await startDaemon({
    dataDir,
    env: { BULWARK_AGENT_LISTEN: '127.0.0.1:0', ...env },
  })
  daemons.push(d)
  return d
}

async function ok(d: RunningDaemon, method: string, path: string, body?: unknown) {
  const res = await d.api(method, path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** Creates an agent and pairs a new agent process with it; resolves once connected. */
async function pairedAgent(d: RunningDaemon, name: string, prefix?: string[]) {
  const created = await ok(d, 'POST', '/v1/agents', { name })
  expect(created.command).toMatch(/^bulwark agent --server https:\/\/\S+ --pair \S+$/)
  const server = /--server (\S+)/.exec(created.command)![1]!
  const agent = startAgent({ server, token: created.token, prefix })
  agents.push(agent)
  await agent.waitFor(`connected to`)
  return { agent, created, server }
}

async function vaultStore(d: RunningDaemon): Promise<string> {
  const body = {
    name: `vault-${randomBytes(3).toString('hex')}`,
    plugin: 'fs',
    endpoint: { path: tempDir('bulwark-agent-store-'), vault_password: PASSWORD },
  }
  return (await ok(d, 'POST', '/v1/stores', body)).uuid
}

/** A target that runs on `agent`. */
async function remoteTarget(
  d: RunningDaemon,
  name: string,
  plugin: string,
  endpoint: Record<string, unknown>,
  agent: string,
): Promise<string> {
  return (await ok(d, 'POST', '/v1/targets', { name, plugin, endpoint, agent })).uuid
}

function sourceDir(files: number, size: number): string {
  const dir = tempDir('bulwark-agent-src-')
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}.bin`), randomBytes(size))
  return dir
}

async function jobFor(d: RunningDaemon, target: string, store: string) {
  const schedule = await ok(d, 'POST', '/v1/schedules', { name: `s-${target}`, when: 'daily 3am' })
  const retention = await ok(d, 'POST', '/v1/retention', { name: `r-${target}`, expires: 86400 })
  return (
    await ok(d, 'POST', '/v1/jobs', {
      name: `job-${target}`,
      target,
      store,
      schedule: schedule.uuid,
      retention: retention.uuid,
    })
  ).uuid as string
}

async function run(d: RunningDaemon, job: string) {
  const started = await ok(d, 'POST', `/v1/job/${job}/run`, { owner: 'test' })
  return waitForTask(d, started.task_uuid, undefined, 120_000)
}

async function restoreInto(d: RunningDaemon, archive: string, target: string) {
  const started = await ok(d, 'POST', `/v1/archive/${archive}/restore`, { target })
  return waitForTask(d, started.task_uuid, undefined, 120_000)
}

describe('a directory backed up and restored through an agent', () => {
  it('pairs once, sends only new chunks, restores there', async () => {
    const d = await daemon()
    const { agent } = await pairedAgent(d, 'db1')
    const listed = await ok(d, 'GET', '/v1/agents')
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ name: 'db1', state: 'connected' })
    expect(listed[0].host).not.toBe('')

    const src = sourceDir(16, 1024 * 1024)
    const store = await vaultStore(d)
    const target = await remoteTarget(d, 'remote-dir', 'files', { path: src }, 'db1')
    expect((await ok(d, 'GET', `/v1/target/${target}`)).agent).toBe('db1')
    const job = await jobFor(d, target, store)

    const first = await run(d, job)
    expect(first.status, first.log).toBe('done')
    expect(first.log).toMatch(/on agent "db1"/)
    const firstWire = Number(/\((\d+) bytes\) on the wire/.exec(first.log)![1])
    expect(firstWire).toBeGreaterThan(15 * 1024 * 1024) // random data: all of it, once

    // One file of sixteen changes: only the chunks around it travel.
    writeFileSync(join(src, 'f7.bin'), randomBytes(1024 * 1024))
    const second = await run(d, job)
    expect(second.status, second.log).toBe('done')
    const secondWire = Number(/\((\d+) bytes\) on the wire/.exec(second.log)![1])
    expect(secondWire).toBeLessThan(firstWire * 0.3)
    expect(secondWire).toBeGreaterThan(1024 * 1024 * 0.9)

    const dest = join(tempDir('bulwark-agent-dest-'), 'out')
    mkdirSync(dest)
    const into = await remoteTarget(d, 'remote-dest', 'files', { path: dest }, 'db1')
    const restored = await restoreInto(d, second.archive_uuid, into)
    expect(restored.status, restored.log).toBe('done')
    expect(tree(dest)).toEqual(tree(src))
    expect(agent.lines.join('\n')).toMatch(/operation \d+: restore \(files\) done/)

    // In use: the agent cannot be removed.
    const refused = await d.api('DELETE', '/v1/agent/db1')
    expect(refused.status).toBe(400)
    expect(refused.body.error.field).toBe('agent')
  })

  it('an agent killed mid-backup fails the task, lists nothing, and the retry after it reconnects succeeds', async () => {
    const d = await daemon()
    const { agent, server } = await pairedAgent(d, 'killed')
    const src = sourceDir(6, 8 * 1024 * 1024)
    const store = await vaultStore(d)
    const target = await remoteTarget(d, 'big', 'files', { path: src }, 'killed')
    const job = await jobFor(d, target, store)
    const started = await ok(d, 'POST', `/v1/job/${job}/run`, { owner: 'test' })
    await agent.waitFor(/operation \d+: backup \(files\) started/)
    await waitFor('bytes to flow', async () =>
      (await ok(d, 'GET', `/v1/task/${started.task_uuid}`)).bytes > 0 ? true : undefined,
    )
    agent.child.kill('SIGKILL')
    const failed = await waitForTask(d, started.task_uuid)
    expect(failed.status).toBe('failed')
    expect(failed.error ?? failed.log).toMatch(/agent "killed" disconnected/)
    expect(await ok(d, 'GET', `/v1/archives?job=${job}`)).toEqual([])

    const again = startAgent({ dataDir: agent.dataDir })
    agents.push(again)
    await again.waitFor('connected to')
    expect(server).toMatch(/^https:/)
    const retry = await run(d, job)
    expect(retry.status, retry.log).toBe('done')
  })

  it('a cancel reaches the agent: its dump stops and nothing is listed', async () => {
    const d = await daemon()
    const { agent } = await pairedAgent(d, 'canceled')
    // A dump that never ends on its own: the exec target runs a command on the agent's host.
    const pidFile = join(tempDir('bulwark-agent-pid-'), 'pid')
    const store = await vaultStore(d)
    const target = (
      await ok(d, 'POST', '/v1/targets', {
        name: 'endless',
        plugin: 'exec',
        endpoint: {
          backup_command: `echo $$ > ${pidFile}; exec cat /dev/urandom`,
          restore_command: 'cat > /dev/null',
        },
        agent: 'canceled',
      })
    ).uuid
    const job = await jobFor(d, target, store)
    const started = await ok(d, 'POST', `/v1/job/${job}/run`, { owner: 'test' })
    await waitFor('bytes to flow', async () =>
      (await ok(d, 'GET', `/v1/task/${started.task_uuid}`)).bytes > 0 ? true : undefined,
    )
    const pid = Number(readFileSync(pidFile, 'utf8'))
    await ok(d, 'DELETE', `/v1/task/${started.task_uuid}`)
    const task = await waitForTask(d, started.task_uuid)
    expect(task.status).toBe('canceled')
    await agent.waitFor(/operation \d+: backup \(exec\) failed: canceled/)
    // The dump command on the agent's host is gone.
    await waitFor('the dump to stop', () => {
      try {
        process.kill(pid, 0)
        return undefined
      } catch {
        return true
      }
    })
    expect(await ok(d, 'GET', `/v1/archives?job=${job}`)).toEqual([])
  })

  it('keeps working across a daemon restart', async () => {
    const dataDir = tempDir()
    let d = await daemon({ BULWARK_AGENT_LISTEN: '127.0.0.1:0' }, dataDir)
    const created = await ok(d, 'POST', '/v1/agents', { name: 'steady' })
    const port = new URL(/--server (\S+)/.exec(created.command)![1]!).port
    await d.stop()
    daemons.splice(daemons.indexOf(d), 1)
    // A fixed port, so the agent finds the daemon again after its restart.
    d = await daemon({ BULWARK_AGENT_LISTEN: `127.0.0.1:${port}` }, dataDir)
    const agent = startAgent({ server: `https://127.0.0.1:${port}`, token: created.token })
    agents.push(agent)
    await agent.waitFor('connected to')
    await d.stop()
    daemons.splice(daemons.indexOf(d), 1)
    await agent.waitFor('disconnected from')
    d = await daemon({ BULWARK_AGENT_LISTEN: `127.0.0.1:${port}` }, dataDir)
    await waitFor('the agent to reconnect', async () =>
      (await ok(d, 'GET', '/v1/agent/steady')).state === 'connected' ? true : undefined,
    )
    const src = sourceDir(2, 64 * 1024)
    const store = await vaultStore(d)
    const target = await remoteTarget(d, 'steady-dir', 'files', { path: src }, 'steady')
    const done = await run(d, await jobFor(d, target, store))
    expect(done.status, done.log).toBe('done')
  })
})

describe('pairing and identity', () => {
  it('refuses a reused or expired token, a removed agent and a wrong key', async () => {
    const d = await daemon()
    const { agent, created, server } = await pairedAgent(d, 'first')

    // Reused: a second agent with the same token is refused and exits.
    const reuse = startAgent({ server, token: created.token })
    agents.push(reuse)
    await reuse.waitFor(/not valid \(a token works once\)/)
    expect(await reuse.exited).toBe(1)

    // Expired: the token's time ran out before it was used.
    const late = await ok(d, 'POST', '/v1/agents', { name: 'late' })
    const db = new Database(join(d.dataDir, 'catalog.db'))
    db.prepare('UPDATE agents SET token_expires_at = 1 WHERE name = ?').run('late')
    db.close()
    const expired = startAgent({ server, token: late.token })
    agents.push(expired)
    await expired.waitFor(/has expired/)
    expect(await expired.exited).toBe(1)
    expect((await ok(d, 'GET', '/v1/agent/late')).state).toBe('pending')

    // A wrong key: the same uuid, another key.
    await agent.stop()
    const config = JSON.parse(readFileSync(join(agent.dataDir, 'agent.json'), 'utf8'))
    const impostorDir = tempDir('bulwark-agent-')
    const { generateKeyPairSync } = await import('node:crypto')
    const other = generateKeyPairSync('ed25519')
    writeFileSync(
      join(impostorDir, 'agent.json'),
      JSON.stringify({
        ...config,
        private_key: other.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      }),
      { mode: 0o600 },
    )
    const impostor = startAgent({ dataDir: impostorDir })
    agents.push(impostor)
    await impostor.waitFor(/does not match/)
    expect(await impostor.exited).toBe(1)

    // Removed: the agent is disconnected and cannot come back.
    const back = startAgent({ dataDir: agent.dataDir })
    agents.push(back)
    await back.waitFor('connected to')
    expect((await d.api('DELETE', '/v1/agent/first')).status).toBe(200)
    await back.waitFor(/removed from the daemon/)
    expect(await back.exited).toBe(1)
    const again = startAgent({ dataDir: agent.dataDir })
    agents.push(again)
    await again.waitFor(/not known to the daemon/)
    expect(await again.exited).toBe(1)
    expect(d.stderr.join('\n')).not.toContain(created.token.split('.')[0])
  })

  it('pairs an existing agent again with a new token: its targets stay, its old key is refused', async () => {
    const d = await daemon()
    const { agent } = await pairedAgent(d, 'rebuilt')
    const target = await remoteTarget(d, 'kept', 'files', { path: sourceDir(1, 1000) }, 'rebuilt')
    await agent.stop()
    const token = await ok(d, 'POST', '/v1/agent/rebuilt/token')
    expect(token).toMatchObject({
      ok: 'token',
      uuid: (await ok(d, 'GET', '/v1/agent/rebuilt')).uuid,
    })
    expect(token.command).toMatch(/^bulwark agent --server https:\/\/\S+ --pair \S+$/)
    const server = /--server (\S+)/.exec(token.command)![1]!
    const fresh = startAgent({ server, token: token.token })
    agents.push(fresh)
    await fresh.waitFor('connected to')
    expect((await ok(d, 'GET', '/v1/agent/rebuilt')).targets).toEqual([
      { uuid: target, name: 'kept' },
    ])
    const old = startAgent({ dataDir: agent.dataDir })
    agents.push(old)
    await old.waitFor(/does not match/)
    expect(await old.exited).toBe(1)
    expect((await ok(d, 'GET', '/v1/agent/rebuilt')).state).toBe('connected')
  })

  it('refuses a daemon that does not prove the identity key the agent paired with', async () => {
    const dataDir = tempDir()
    const d = await daemon({}, dataDir)
    const { agent, server } = await pairedAgent(d, 'wary')
    const port = new URL(server).port
    await d.stop()
    daemons.splice(daemons.indexOf(d), 1)
    await agent.waitFor('disconnected from')
    // Same listener certificate, another identity key.
    const { generateKeyPairSync } = await import('node:crypto')
    writeFileSync(
      join(dataDir, 'identity.pem'),
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      { mode: 0o600 },
    )
    await daemon({ BULWARK_AGENT_LISTEN: `127.0.0.1:${port}` }, dataDir)
    await agent.waitFor(/did not prove the identity key this agent paired with/)
    expect(await agent.exited).toBe(1)
  })

  it('a task for an offline agent waits, says so, then fails naming the agent', async () => {
    const d = await daemon({ BULWARK_AGENT_WAIT_SECONDS: '2' })
    await ok(d, 'POST', '/v1/agents', { name: 'away' })
    const store = await vaultStore(d)
    const target = await remoteTarget(d, 'away-dir', 'files', { path: '/srv/not-here' }, 'away')
    const task = await run(d, await jobFor(d, target, store))
    expect(task.status).toBe('failed')
    expect(task.log).toMatch(/waiting for agent "away" to connect \(never connected/)
    expect(task.error).toMatch(/agent "away" is offline/)

    const bad = await d.api('POST', '/v1/targets', {
      name: 'nobody',
      plugin: 'files',
      endpoint: { path: '/x' },
      agent: 'nobody',
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('agent')
    expect(bad.body.error.message).toMatch(/no agent named "nobody"; the agents are: away/)
  })
})
