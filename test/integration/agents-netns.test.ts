// Issue 12's story on two network hosts made here with `ip netns` and a veth
// pair: the daemon on the host (its agents' listener on the host's side of
// the pair), the agent and a Redis server in a namespace of their own (Redis
// on that namespace's loopback, which the daemon cannot reach). The agent
// dials out and listens on nothing. Through it: Redis backed up with BGSAVE
// (mode rdb) and restored by replacing the RDB file and restarting that
// Redis, Redis by keys, and a directory, each compared after the restore.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAgent, type RunningAgent } from '../helpers/agent'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { canRun } from '../helpers/skip'
import { waitForTask } from '../helpers/tasks'
import { PASSWORD, tree } from '../helpers/vault-bench'
import { waitFor } from '../helpers/wait'

const tag = randomBytes(3).toString('hex')
const NS = `bwag-${tag}`
const HOST_IF = `bwh${tag}`
const NS_IF = `bwa${tag}`
const subnet = 100 + (parseInt(tag.slice(0, 2), 16) % 100)
const HOST_IP = `10.231.${subnet}.1`
const NS_IP = `10.231.${subnet}.2`
const REDIS_PORT = 6391

/** Why netns tests cannot run here, or null. */
function missing(): string | null {
  if (process.getuid?.() !== 0) return 'root (for ip netns)'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return null
  } catch {
    return 'ip netns and redis-server'
  }
}

const inNs = (...cmd: string[]) => ['ip', 'netns', 'exec', NS, ...cmd]
const sh = (cmd: string[]) => execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' })
const cli = (...args: string[]) => sh(inNs('redis-cli', '-p', String(REDIS_PORT), ...args)).trim()

describe.skipIf(!canRun(missing(), 'run as root with iproute2 and redis-server installed'))(
  'an agent on another network host',
  () => {
    let d: RunningDaemon
    let agent: RunningAgent
    const redisDir = tempDir('bulwark-ns-redis-')
    const restart = join(redisDir, 'restart.sh')

    beforeAll(async () => {
      for (const cmd of [
        ['ip', 'netns', 'add', NS],
        ['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
        ['ip', 'link', 'set', NS_IF, 'netns', NS],
        ['ip', 'addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF],
        ['ip', 'link', 'set', HOST_IF, 'up'],
        inNs('ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF),
        inNs('ip', 'link', 'set', NS_IF, 'up'),
        inNs('ip', 'link', 'set', 'lo', 'up'),
      ])
        sh(cmd)
      // A Redis that exists only in the agent's namespace, restarted by a script the restore runs there.
      const args = [
        '--port',
        String(REDIS_PORT),
        '--bind',
        '127.0.0.1',
        '--dir',
        redisDir,
        '--dbfilename',
        'dump.rdb',
        '--save',
        "''",
        '--appendonly',
        'no',
        '--pidfile',
        join(redisDir, 'redis.pid'),
        '--daemonize',
        'yes',
      ]
      writeFileSync(
        restart,
        `#!/bin/sh\nset -e\nif [ -f ${redisDir}/redis.pid ]; then kill $(cat ${redisDir}/redis.pid) 2>/dev/null || true; ` +
          `while redis-cli -p ${REDIS_PORT} ping >/dev/null 2>&1; do sleep 0.05; done; fi\n` +
          `redis-server ${args.join(' ')}\n`,
      )
      chmodSync(restart, 0o755)
      sh(inNs(restart))
      await waitFor('redis in the namespace', () => (cli('ping') === 'PONG' ? true : undefined))
      cli('EVAL', "for i=1,3000 do redis.call('SET','k'..i,string.rep('v',200)..i) end", '0')
      cli('HSET', 'h', 'a', '1', 'b', '2')
      cli('RPUSH', 'l', 'x', 'y', 'z')
      cli('ZADD', 'z', '1', 'one', '2', 'two')

      d = await startDaemon({ env: { BULWARK_AGENT_LISTEN: `${HOST_IP}:0` } })
      const created = (await d.api('POST', '/v1/agents', { name: 'nshost' })).body
      expect(created.command).toContain(`https://${HOST_IP}:`)
      const server = /--server (\S+)/.exec(created.command)![1]!
      agent = startAgent({ server, token: created.token, prefix: inNs() })
      await agent.waitFor('connected to')
    })

    afterAll(async () => {
      await agent?.stop('SIGKILL')
      await d?.stop()
      try {
        sh(inNs('sh', '-c', `kill $(cat ${redisDir}/redis.pid)`))
      } catch {
        // not running
      }
      try {
        sh(['ip', 'netns', 'del', NS])
      } catch {
        // already gone
      }
    })

    async function ok(method: string, path: string, body?: unknown) {
      const res = await d.api(method, path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body
    }

    async function job(target: string): Promise<string> {
      const store = await ok('POST', '/v1/stores', {
        name: `store-${target}`,
        plugin: 'fs',
        endpoint: { path: tempDir('bulwark-ns-store-'), vault_password: PASSWORD },
      })
      const schedule = await ok('POST', '/v1/schedules', { name: `s-${target}`, when: 'daily 2am' })
      const retention = await ok('POST', '/v1/retention', { name: `r-${target}`, expires: 86400 })
      return (
        await ok('POST', '/v1/jobs', {
          name: `job-${target}`,
          target,
          store: store.uuid,
          schedule: schedule.uuid,
          retention: retention.uuid,
        })
      ).uuid
    }

    async function backup(jobUuid: string) {
      const run = await ok('POST', `/v1/job/${jobUuid}/run`, { owner: 'test' })
      const task = await waitForTask(d, run.task_uuid, undefined, 120_000)
      expect(task.status, task.log).toBe('done')
      return task
    }

    async function restore(archive: string, target: string) {
      const started = await ok('POST', `/v1/archive/${archive}/restore`, { target })
      const task = await waitForTask(d, started.task_uuid, undefined, 120_000)
      expect(task.status, task.log).toBe('done')
      return task
    }

    it('the agent listens on nothing, and the daemon cannot reach its Redis', async () => {
      const listening = sh(inNs('ss', '-Hltn'))
      expect(listening).toContain(`127.0.0.1:${REDIS_PORT}`)
      expect(listening.trim().split('\n')).toHaveLength(1)
      const test = await ok('POST', '/v1/targets/test', {
        plugin: 'redis',
        endpoint: { host: '127.0.0.1', port: REDIS_PORT, connect_timeout: 2 },
      })
      expect(test.ok).toBe(false)
      const remote = await ok('POST', '/v1/targets/test', {
        plugin: 'redis',
        endpoint: { host: '127.0.0.1', port: REDIS_PORT },
        agent: 'nshost',
      })
      expect(remote.ok, remote.message).toBe(true)
      expect((await ok('GET', '/v1/agent/nshost')).state).toBe('connected')
    })

    it("backs up that host's Redis with BGSAVE and restores it by replacing the RDB file", async () => {
      const target = (
        await ok('POST', '/v1/targets', {
          name: 'ns-redis-rdb',
          plugin: 'redis',
          endpoint: {
            host: '127.0.0.1',
            port: REDIS_PORT,
            mode: 'rdb',
            restart_command: restart,
          },
          agent: 'nshost',
        })
      ).uuid
      const task = await backup(await job(target))
      expect(task.log).toMatch(/\[agent nshost\].*BGSAVE/i)
      const before = cli('DBSIZE')
      const value = cli('GET', 'k1234')
      cli('FLUSHALL')
      cli('SET', 'after', 'the backup')
      await restore(task.archive_uuid, target)
      expect(cli('DBSIZE')).toBe(before)
      expect(cli('GET', 'k1234')).toBe(value)
      expect(cli('HGET', 'h', 'b')).toBe('2')
      expect(cli('EXISTS', 'after')).toBe('0')
    })

    it('backs up Redis by keys and a directory through the agent, and restores both there', async () => {
      const keys = (
        await ok('POST', '/v1/targets', {
          name: 'ns-redis-keys',
          plugin: 'redis',
          endpoint: { host: '127.0.0.1', port: REDIS_PORT },
          agent: 'nshost',
        })
      ).uuid
      const task = await backup(await job(keys))
      const before = cli('DBSIZE')
      cli('FLUSHALL')
      await restore(task.archive_uuid, keys)
      expect(cli('DBSIZE')).toBe(before)
      expect(cli('LRANGE', 'l', '0', '-1')).toBe('x\ny\nz')

      const src = tempDir('bulwark-ns-src-')
      mkdirSync(join(src, 'sub'))
      writeFileSync(join(src, 'a.txt'), 'hello from the agent host\n')
      writeFileSync(join(src, 'sub', 'b.bin'), randomBytes(300_000))
      const dir = (
        await ok('POST', '/v1/targets', {
          name: 'ns-dir',
          plugin: 'files',
          endpoint: { path: src },
          agent: 'nshost',
        })
      ).uuid
      const dirTask = await backup(await job(dir))
      const dest = join(tempDir('bulwark-ns-dest-'), 'out')
      const into = (
        await ok('POST', '/v1/targets', {
          name: 'ns-dest',
          plugin: 'files',
          endpoint: { path: dest },
          agent: 'nshost',
        })
      ).uuid
      await restore(dirTask.archive_uuid, into)
      expect(tree(dest)).toEqual(tree(src))
    })
  },
)
