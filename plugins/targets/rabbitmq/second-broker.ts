// A second, throwaway RabbitMQ broker for the rabbitmq target's tests: a
// node of its own name, ports, data and config in a temporary directory,
// with the management plugin on 127.0.0.1 (guest/guest), started from the
// machine's RabbitMQ install and stopped by its process group, so a restore
// can go into a broker other than the one backed up.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, freePort } from './rabbitmq-fixtures'

export const SERVER_BIN = '/usr/lib/rabbitmq/bin/rabbitmq-server'
const STARTUP_MS = 90_000

export interface SecondBroker {
  /** Its management API, e.g. http://127.0.0.1:40123. */
  url: string
  stop(): Promise<void>
}

const answers = (url: string) =>
  fetch(`${url}/api/overview`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
    },
    signal: AbortSignal.timeout(2000),
  }).then(
    (res) => res.ok,
    () => false,
  )

/** Starts the broker and resolves once its management API answers (some 20 s). */
export async function startSecondBroker(): Promise<SecondBroker> {
  if (!existsSync(SERVER_BIN)) throw new Error(`no ${SERVER_BIN}: RabbitMQ is not installed`)
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-rabbitmq-'))
  await chmod(dir, 0o755)
  const [amqp, dist, mgmt] = [await freePort(), await freePort(), await freePort()]
  for (const sub of ['mnesia', 'log']) await mkdir(join(dir, sub))
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    `listeners.tcp.default = 127.0.0.1:${amqp}\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = ${mgmt}\n`,
  )
  await writeFile(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n')
  // Its own env file, so the machine's (which names the main node) is not read.
  await writeFile(
    join(dir, 'rabbitmq-env.conf'),
    'ERL_EPMD_ADDRESS=127.0.0.1\nexport ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n',
  )
  const env = {
    ...process.env,
    HOME: dir, // a fresh Erlang cookie, not the main node's
    RABBITMQ_NODENAME: `bulwark-t-${randomBytes(4).toString('hex')}@localhost`,
    RABBITMQ_NODE_PORT: String(amqp),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  }
  const out = join(dir, 'server.log')
  const child = spawn('sh', ['-c', `exec "${SERVER_BIN}" >"${out}" 2>&1`], {
    cwd: dir,
    env,
    detached: true, // its own process group: stop() ends the server and the Erlang VM together
    stdio: 'ignore',
  })
  const group = child.pid!
  /** True while any process of the broker's group (the script, the Erlang VM) is left. */
  const alive = () => {
    try {
      process.kill(-group, 0)
      return true
    } catch {
      return false
    }
  }
  const stop = async () => {
    if (alive()) process.kill(-group, 'SIGTERM')
    // A graceful stop takes a few seconds; past 30 s, SIGKILL, and past 35 s give up
    // waiting (an unreaped zombie would otherwise keep the group "alive").
    const start = Date.now()
    let killed = false
    while (alive() && Date.now() - start < 35_000) {
      if (!killed && Date.now() - start > 30_000) {
        process.kill(-group, 'SIGKILL')
        killed = true
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    await rm(dir, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${mgmt}`
  const deadline = Date.now() + STARTUP_MS
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = await readFile(out, 'utf8').catch(() => '')
      await stop()
      throw new Error(`the second RabbitMQ broker did not start:\n${log.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { url, stop }
}
