// The rabbitmq target restoring into a broker other than the one backed up: a
// second, empty RabbitMQ started by the test (second-broker.ts). A whole
// broker's archive makes it a copy of the machine's broker (users too with
// replace_users, else its own guest stays); a vhost's archive goes into a
// vhost of another name there.
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import { normalize, withoutVhost, type Definitions } from './definitions'
import rabbitmqTarget from './index'
import * as fx from '../../../test/fixtures/targets/rabbitmq'
import {
  startSecondBroker,
  type SecondBroker,
} from '../../../test/fixtures/targets/rabbitmq-second-broker'

const available = await fx.rabbitmqAvailable()
const plugin = rabbitmqTarget.plugin as TargetPlugin

describe.skipIf(!available)('target rabbitmq: into a second broker', () => {
  const n = fx.names('second')
  const SRC = n.vhost('src')
  let second: SecondBroker
  const at = (url: string, more: Endpoint = {}): Endpoint => ({ url, password: 'guest', ...more })
  const backup = async (more: Endpoint = {}) =>
    readAll(await plugin.backup(at(fx.MGMT_URL, more), testContext()))
  const restore = async (more: Endpoint, archive: Buffer) => {
    const ctx = testContext()
    await plugin.restore(at(second.url, more), Readable.from([archive]), ctx)
    return ctx.lines.join('\n')
  }
  const exportOf = async (path: string): Promise<Definitions> => {
    const res = await fetch(`${second.url}/api${path}`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    })
    expect(res.status).toBe(200)
    return normalize((await res.json()) as Definitions)
  }

  beforeAll(async () => {
    await fx.seedVhost(SRC, n.user('app'))
    second = await startSecondBroker()
  }, 120_000)
  afterAll(async () => {
    await second?.stop()
    await n.cleanup()
  }, 60_000)

  it('a whole broker: everything but the cluster id, and the users exactly with replace_users', async () => {
    const archive = await backup()
    const defs = normalize(JSON.parse(archive.toString()) as Definitions)
    const lists = ['vhosts', 'permissions', 'topic_permissions', 'parameters', 'policies']
    const same = (a: Definitions, b: Definitions) => {
      for (const list of [...lists, 'queues', 'exchanges', 'bindings'])
        expect(a[list], list).toEqual(b[list])
    }

    const log = await restore({}, archive)
    expect(log).toMatch(/left 1 existing users as they are, .*: "guest"/)
    let copy = await exportOf('/definitions')
    same(copy, defs)
    const users = (d: Definitions) => (d.users as { name: string }[]).map((u) => u.name)
    expect(users(copy)).toEqual(users(defs))
    expect(copy.global_parameters).not.toEqual(defs.global_parameters) // its own cluster id

    const replaced = await restore({ replace_users: true }, archive)
    expect(replaced).toMatch(/replacing the password and tags of 1 existing users .*"guest"/)
    copy = await exportOf('/definitions')
    same(copy, defs)
    expect(copy.users).toEqual(defs.users)
  })

  it("a vhost's archive into a vhost of another name", async () => {
    const archive = await backup({ vhost: SRC })
    const log = await restore({ vhost: 'copy' }, archive)
    expect(log).toContain('created vhost "copy", which did not exist')
    expect(withoutVhost(await exportOf('/definitions/copy'))).toEqual(await fx.exportVhost(SRC))
  })
})
