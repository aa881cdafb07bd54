// Test fixtures for the rabbitmq target (its own tests and the daemon's
// integration test): whether the machine's management API answers (under
// CI=true its absence fails the run), admin calls to it as guest, throwaway
// vhosts and users with names unique to the run (removed afterwards), a vhost
// seeded with every kind of definition, and normalized exports to compare.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { serviceAvailable } from '../../sdk/conformance/services'
import { normalize, withoutVhost, type Definitions } from './definitions'

export const MGMT_URL = 'http://127.0.0.1:15672'
export const ADMIN = { user: 'guest', password: 'guest' }
const AUTH = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`

/** Whether the management API answers guest/guest (checked once, before the suites are declared). */
export async function rabbitmqAvailable(): Promise<boolean> {
  const up = await fetch(`${MGMT_URL}/api/overview`, {
    headers: { authorization: AUTH },
    signal: AbortSignal.timeout(5000),
  }).then(
    (res) => res.ok,
    () => false,
  )
  return serviceAvailable(
    `RabbitMQ's management API at ${MGMT_URL} (guest/guest; enable it with \`rabbitmq-plugins enable rabbitmq_management\`)`,
    () => up,
  )
}

const enc = encodeURIComponent

/** An admin call; throws unless the status is 2xx or one of `allow`. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  allow: number[] = [],
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many shapes, read by tests
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${MGMT_URL}/api${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok && !allow.includes(res.status)) {
    throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`)
  }
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** Names no other run (or test file) uses; every one is removed by cleanup(). */
export function names(file: string) {
  const run = randomBytes(4).toString('hex')
  const made = { vhosts: new Set<string>(), users: new Set<string>() }
  return {
    vhost(tag: string) {
      const name = `bulwark-t-${file}-${run}-${tag}`
      made.vhosts.add(name)
      return name
    },
    user(tag: string) {
      const name = `bulwark-t-${file}-${run}-${tag}`
      made.users.add(name)
      return name
    },
    /** True for a vhost or user of this run. */
    ours: (name: unknown) =>
      typeof name === 'string' && name.startsWith(`bulwark-t-${file}-${run}-`),
    async cleanup() {
      for (const v of made.vhosts) await api('DELETE', `/vhosts/${enc(v)}`, undefined, [404])
      for (const u of made.users) await api('DELETE', `/users/${enc(u)}`, undefined, [404])
    },
  }
}

/**
 * Creates `vhost` with exchanges of each kind (one with an alternate
 * exchange), `queues` classic queues with arguments plus a quorum queue,
 * queue and exchange-to-exchange bindings with arguments, two policies, a
 * vhost limit, and `user` with permissions and topic permissions on it.
 */
export async function seedVhost(vhost: string, user: string, queues = 12): Promise<void> {
  await api('PUT', `/vhosts/${enc(vhost)}`, {})
  await api('PUT', `/users/${enc(user)}`, { password: 'seeded-pw', tags: 'management' })
  await api('PUT', `/permissions/${enc(vhost)}/${enc(user)}`, {
    configure: '^app\\.',
    write: '.*',
    read: '.*',
  })
  await api('PUT', `/topic-permissions/${enc(vhost)}/${enc(user)}`, {
    exchange: 'amq.topic',
    write: '^orders\\.',
    read: '.*',
  })
  await api('PUT', `/vhost-limits/${enc(vhost)}/max-queues`, { value: 5000 })
  const ex = (name: string, type: string, args = {}) => ({
    name,
    type,
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: args,
  })
  const q = (name: string, args: Record<string, unknown> = {}) => ({
    name,
    durable: true,
    auto_delete: false,
    arguments: args,
  })
  const bind = (source: string, destination: string, type: string, key: string, args = {}) => ({
    source,
    destination,
    destination_type: type,
    routing_key: key,
    arguments: args,
  })
  const classic = Array.from({ length: queues }, (_, i) =>
    q(`app.q${String(i).padStart(4, '0')}`, { 'x-max-length': 1000 + i, 'x-message-ttl': 60_000 }),
  )
  await api('POST', `/definitions/${enc(vhost)}`, {
    exchanges: [
      ex('app.unrouted', 'fanout'),
      ex('app.direct', 'direct', { 'alternate-exchange': 'app.unrouted' }),
      ex('app.topic', 'topic'),
      ex('app.headers', 'headers'),
    ],
    queues: [...classic, q('app.quorum', { 'x-queue-type': 'quorum' }), q('app.dead')],
    bindings: [
      ...classic.map((c, i) => bind('app.direct', c.name, 'queue', `key.${i}`)),
      bind('app.topic', 'app.quorum', 'queue', 'orders.#'),
      bind('app.headers', 'app.dead', 'queue', '', { 'x-match': 'any', kind: 'dead' }),
      bind('app.topic', 'app.direct', 'exchange', 'route.*'),
      bind('app.unrouted', 'app.dead', 'queue', ''),
    ],
    policies: [
      {
        name: 'app-dlx',
        pattern: '^app\\.q',
        'apply-to': 'queues',
        priority: 1,
        definition: { 'dead-letter-exchange': 'app.unrouted' },
      },
      {
        name: 'app-ha',
        pattern: '^app\\.topic$',
        'apply-to': 'exchanges',
        priority: 0,
        definition: { 'alternate-exchange': 'app.unrouted' },
      },
    ],
  })
}

/** A vhost's definitions as its export gives them, normalized and without its name (so two compare with toEqual). */
export async function exportVhost(vhost: string): Promise<Definitions> {
  const defs = (await api('GET', `/definitions/${enc(vhost)}`)).body as Definitions
  return normalize(withoutVhost(defs))
}

/** The whole broker's export, normalized. */
export async function exportBroker(): Promise<Definitions> {
  return normalize((await api('GET', '/definitions')).body as Definitions)
}

export const vhostExists = async (vhost: string) =>
  (await api('GET', `/vhosts/${enc(vhost)}`, undefined, [404])).status === 200

/** A port nothing listens on (bound and released): a management API that is not there. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}
