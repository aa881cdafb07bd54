// Tests of the rabbitmq target against the machine's RabbitMQ through its
// management API (127.0.0.1:15672, guest/guest): the shared conformance
// suite, deterministic archives, restores into another vhost, into a deleted
// one and into a whole broker (existing users left alone unless
// replace_users), and the errors a person meets: wrong password, API not
// there, vhost missing, an archive of the wrong scope. Every vhost and user
// is unique to the run and removed afterwards.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginError } from '../../sdk/errors'
import { readAll, rejection, testContext } from '../../sdk/conformance/services'
import { targetConformance } from '../../sdk/conformance/target-suite'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import { normalize, type Definitions } from './definitions'
import rabbitmqTarget from './index'
import * as fx from '../../../test/fixtures/targets/rabbitmq'
import { freePort } from '../../../test/helpers/wait'

const available = await fx.rabbitmqAvailable()
const plugin = rabbitmqTarget.plugin as TargetPlugin
const ep = (more: Endpoint = {}): Endpoint => ({ url: fx.MGMT_URL, password: 'guest', ...more })
const backup = async (more: Endpoint) => readAll(await plugin.backup(ep(more), testContext()))
const restore = async (more: Endpoint, archive: Buffer) => {
  const ctx = testContext()
  await plugin.restore(ep(more), Readable.from([archive]), ctx)
  return ctx.lines.join('\n')
}
const enc = encodeURIComponent

describe.skipIf(!available)('target rabbitmq', () => {
  const n = fx.names('plugin')
  const SRC = n.vhost('src')
  const USER = n.user('app')
  beforeAll(() => fx.seedVhost(SRC, USER))
  afterAll(() => n.cleanup())

  {
    const conf = fx.names('conf')
    const source = conf.vhost('src')
    targetConformance('rabbitmq', {
      endpoint: async () => ep({ vhost: source }),
      // A vhost that does not exist yet: the restore creates it.
      restoreEndpoint: async () => ep({ vhost: conf.vhost(`dst${Math.random()}`.slice(0, 12)) }),
      // Some 400 queues make an archive of several slices, so an abort can come mid-stream.
      seed: () => fx.seedVhost(source, conf.user('app'), 400),
      snapshot: (e) => fx.exportVhost(e.vhost as string),
      mutate: async () => {
        await fx.api('DELETE', `/queues/${enc(source)}/app.q0001`)
        await fx.api('PUT', `/policies/${enc(source)}/extra`, {
          pattern: '.*',
          definition: { 'max-length': 5 },
        })
      },
      badEndpoint: async () =>
        ep({ url: `http://127.0.0.1:${await freePort()}`, password: 'Telltale-pw-9f3k2' }),
      cleanup: () => conf.cleanup(),
      spawnsTools: false,
    })
  }

  it('test() names the version, the scope and what it holds', async () => {
    expect(await plugin.test(ep({ vhost: SRC }), testContext())).toBe(
      `RabbitMQ ${(await fx.api('GET', '/overview')).body.rabbitmq_version} at ${fx.MGMT_URL}, vhost "${SRC}": 14 queues, 4 exchanges, 16 bindings, 2 policies`,
    )
    expect(await plugin.test(ep({ vhost: '/' }), testContext())).toMatch(/, vhost "\/": \d+ queues/)
    expect(await plugin.test(ep(), testContext())).toMatch(
      /^RabbitMQ 3\.\d+\.\d+ at http:\/\/127\.0\.0\.1:15672, the whole broker: \d+ vhosts, \d+ users, \d+ queues, /,
    )
  })

  it('a backup is sorted JSON with the same bytes each time, and logs what it holds', async () => {
    const ctx = testContext()
    const first = await readAll(await plugin.backup(ep({ vhost: SRC }), ctx))
    expect(ctx.lines.join('\n')).toMatch(
      new RegExp(`exported vhost "${SRC}" of RabbitMQ 3\\.\\d+\\.\\d+ at .*: 14 queues`),
    )
    expect((await backup({ vhost: SRC })).equals(first)).toBe(true)
    const defs = JSON.parse(first.toString()) as Definitions
    expect(Object.keys(defs)).toEqual([...Object.keys(defs)].sort())
    const queueNames = (defs.queues as { name: string }[]).map((q) => q.name)
    expect(queueNames).toEqual([...queueNames].sort())
    expect(queueNames).toContain('app.quorum')
    expect(defs.parameters).toEqual([
      { component: 'vhost-limits', name: 'limits', value: { 'max-queues': 5000 } },
    ])
    // A vhost's archive names no vhost: it restores into any.
    expect(first.toString()).not.toContain(SRC)
  })

  it('restores a vhost into another vhost (created), with the same definitions', async () => {
    const archive = await backup({ vhost: SRC })
    const other = n.vhost('other')
    const log = await restore({ vhost: other }, archive)
    expect(log).toContain(`created vhost "${other}", which did not exist`)
    expect(log).toMatch(/queues: 14 new/)
    expect(log).toContain(`restored vhost "${other}": 14 queues, 4 exchanges, 16 bindings`)
    expect(await fx.exportVhost(other)).toEqual(await fx.exportVhost(SRC))
    // Restoring again changes nothing, and says so.
    expect(await restore({ vhost: other }, archive)).toMatch(
      /queues: 14 already there as in the archive/,
    )
  })

  it('restores a vhost that was deleted, into the same broker', async () => {
    const vhost = n.vhost('deleted')
    await fx.seedVhost(vhost, n.user('deleted'), 3)
    const before = await fx.exportVhost(vhost)
    const archive = await backup({ vhost })
    await fx.api('DELETE', `/vhosts/${enc(vhost)}`)
    expect(await fx.vhostExists(vhost)).toBe(false)
    await restore({ vhost }, archive)
    expect(await fx.exportVhost(vhost)).toEqual(before)
  })

  it('says which existing queues RabbitMQ kept as they were and which policies the archive replaced', async () => {
    const archive = await backup({ vhost: SRC })
    const other = n.vhost('differs')
    await fx.api('PUT', `/vhosts/${enc(other)}`, {})
    await fx.api('PUT', `/queues/${enc(other)}/app.q0003`, {
      durable: true,
      arguments: { 'x-max-length': 7 },
    })
    await fx.api('PUT', `/policies/${enc(other)}/app-dlx`, {
      pattern: '^nothing$',
      definition: { 'max-length': 1 },
    })
    const log = await restore({ vhost: other }, archive)
    expect(log).toMatch(
      /queues: 13 new; 1 already there with other properties, kept as the broker has them .*: "app\.q0003"/,
    )
    expect(log).toMatch(/policies: 1 new; 1 replaced by the archive's: "app-dlx"/)
    const q = (await fx.api('GET', `/queues/${enc(other)}/app.q0003`)).body
    expect(q.arguments).toEqual({ 'x-max-length': 7 })
  })

  describe('a whole broker', () => {
    /** The whole-broker archive cut down to this run's vhosts and users, plus guest. */
    const ours = (archive: Buffer): Buffer => {
      const defs = JSON.parse(archive.toString()) as Record<string, Record<string, unknown>[]>
      const keep = (item: Record<string, unknown>) =>
        [item.vhost, item.user, item.name].some(n.ours) || item.name === 'guest'
      for (const list of ['users', 'vhosts', 'permissions', 'topic_permissions'].concat([
        'parameters',
        'policies',
        'queues',
        'exchanges',
        'bindings',
      ]))
        defs[list] = defs[list]!.filter(keep)
      return Buffer.from(JSON.stringify(defs))
    }
    /** A list of an export, only what is this run's (other test files may change the rest meanwhile). */
    const mine = (defs: Definitions, list: string) =>
      (defs[list] as Record<string, unknown>[]).filter((item) =>
        [item.vhost, item.user, item.name].some(n.ours),
      )
    const userOf = (defs: Definitions, name: string) =>
      (defs.users as { name: string; password_hash: string }[]).find((u) => u.name === name)

    it('backs up users, permissions and every vhost; restores deleted ones and leaves existing users alone', async () => {
      const vhost = n.vhost('whole')
      const user = n.user('whole')
      await fx.seedVhost(vhost, user, 2)
      const before = await fx.exportBroker()
      const vhostBefore = await fx.exportVhost(vhost)
      const full = await backup({})
      const defs = normalize(JSON.parse(full.toString()) as Definitions)
      for (const list of ['users', 'vhosts', 'permissions', 'topic_permissions', 'queues'])
        expect(mine(defs, list), list).toEqual(mine(before, list))
      expect(mine(defs, 'queues').filter((q) => q.vhost === vhost)).toHaveLength(4)
      const archive = ours(full)

      // Deleted: they come back as they were. Changed: guest's stays, the archive's is not forced on it.
      await fx.api('DELETE', `/vhosts/${enc(vhost)}`)
      await fx.api('DELETE', `/users/${enc(user)}`)
      await fx.api('PUT', `/users/${enc(USER)}`, { password: 'changed-pw', tags: 'management' })
      const changedHash = userOf(await fx.exportBroker(), USER)!.password_hash
      const log = await restore({}, archive)
      const after = await fx.exportBroker()
      expect(await fx.exportVhost(vhost)).toEqual(vhostBefore)
      expect(userOf(after, user)).toEqual(userOf(before, user))
      expect(mine(after, 'permissions')).toEqual(mine(before, 'permissions'))
      expect(mine(after, 'topic_permissions')).toEqual(mine(before, 'topic_permissions'))
      expect(userOf(after, USER)!.password_hash).toBe(changedHash)
      expect(log).toContain(
        `left 1 existing users as they are, though the archive has another password or tags for them: "${USER}" (set replace_users`,
      )
      expect(log).toMatch(/users: 1 new/)
      expect(log).toMatch(/restored the whole broker: /)
      // The broker keeps its own cluster id.
      expect(after.global_parameters).toEqual(before.global_parameters)

      // replace_users: the archive's password and tags win.
      const replaced = await restore({ replace_users: true }, archive)
      expect(replaced).toContain(`replacing the password and tags of 1 existing users`)
      expect(userOf(await fx.exportBroker(), USER)).toEqual(userOf(before, USER))
    })

    it('restored with a vhost set, restores only that vhost of the archive', async () => {
      const archive = ours(await backup({}))
      const seeded = await fx.exportVhost(SRC)
      await fx.api('DELETE', `/vhosts/${enc(SRC)}`)
      try {
        const log = await restore({ vhost: SRC }, archive)
        expect(log).toContain(`the archive holds a whole broker: restoring only its vhost "${SRC}"`)
        expect(await fx.exportVhost(SRC)).toEqual(seeded)
      } finally {
        if (!(await fx.vhostExists(SRC))) await fx.seedVhost(SRC, USER)
      }
      const missing = n.vhost('not-in-archive')
      const err = await rejection(restore({ vhost: missing }, archive))
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toContain(
        `the archive holds a whole broker, without a vhost "${missing}"`,
      )
      expect(err.message).toContain(`"${SRC}"`)
      expect(await fx.vhostExists(missing)).toBe(false)
    })

    it("a vhost's archive restored without a vhost is refused", async () => {
      const err = await rejection(restore({}, await backup({ vhost: SRC })))
      expect(err.message).toMatch(/holds the definitions of one vhost .*set the field vhost/)
    })
  })

  describe('errors a person can act on', () => {
    it('a wrong password: says so, never shows it, and is permanent', async () => {
      const password = 'Wrong-Secret-7781'
      for (const call of [
        () => plugin.test(ep({ password }), testContext()),
        () => plugin.backup(ep({ password, vhost: SRC }), testContext()),
        () => plugin.restore(ep({ password }), Readable.from(['{"queues":[]}']), testContext()),
      ]) {
        const err = (await rejection(call())) as PluginError
        expect(err).toBeInstanceOf(PluginError)
        expect(err.kind).toBe('permanent')
        expect(err.message).toBe(
          `RabbitMQ at ${fx.MGMT_URL} refused the login of user "guest": wrong user name or password`,
        )
        expect(
          JSON.stringify({ ...err, stack: err.stack, cause: String(err.cause) }),
        ).not.toContain(password)
      }
    })

    it('a user without the administrator tag is told which tag it needs', async () => {
      const err = await rejection(
        plugin.test(ep({ user: USER, password: 'seeded-pw', vhost: SRC }), testContext()),
      )
      expect(err.message).toMatch(/may not .*: it needs the administrator tag/)
      expect(err.message).toContain(`RabbitMQ user "${USER}"`)
    })

    it('no management API at the url: connection refused, and how to enable the plugin', async () => {
      const url = `http://127.0.0.1:${await freePort()}`
      const err = (await rejection(plugin.test(ep({ url }), testContext()))) as PluginError
      expect(err).toBeInstanceOf(PluginError)
      expect(err.kind).toBe('transient')
      expect(err.message).toContain(`nothing answers at ${url} (connection refused)`)
      expect(err.message).toContain('rabbitmq-plugins enable rabbitmq_management')
    })

    it('something else at the url: says it does not look like the management API', async () => {
      const server = createServer((req, res) => {
        if (req.url === '/api/overview') res.writeHead(200, { 'content-type': 'text/html' })
        else res.writeHead(404)
        res.end('<html>some other app</html>')
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      try {
        const html = await rejection(plugin.test(ep({ url }), testContext()))
        expect(html).toBeInstanceOf(PluginError)
        expect(html.message).toContain(`${url} answered /overview with something that is not JSON`)
        const missing = await rejection(plugin.test(ep({ url: `${url}/rabbit` }), testContext()))
        expect(missing.message).toContain(`${url}/rabbit/api/overview was not found (HTTP 404)`)
        expect(missing.message).toContain('rabbitmq-plugins enable rabbitmq_management')
      } finally {
        await new Promise((r) => server.close(r))
      }
    })

    it('a vhost that does not exist: backup and test name it and list the ones there are', async () => {
      const vhost = n.vhost('missing')
      for (const call of [
        () => plugin.test(ep({ vhost }), testContext()),
        () => plugin.backup(ep({ vhost }), testContext()),
      ]) {
        const err = await rejection(call())
        expect(err).toBeInstanceOf(PluginError)
        expect(err.message).toContain(
          `vhost "${vhost}" does not exist on RabbitMQ at ${fx.MGMT_URL}`,
        )
        expect(err.message).toContain(`"${SRC}"`)
      }
    })

    it('credentials in the url are refused without being repeated', async () => {
      const err = await rejection(
        plugin.test(ep({ url: 'http://guest:Url-Secret-1@127.0.0.1:15672' }), testContext()),
      )
      expect(err.message).toMatch(/put them in the user and password fields/)
      expect(err.message).not.toContain('Url-Secret-1')
    })

    it('an archive that is not definitions changes nothing', async () => {
      const vhost = n.vhost('never')
      const err = await rejection(restore({ vhost }, Buffer.from('{"queues": 3}')))
      expect(err.message).toContain('the archive is not RabbitMQ definitions')
      expect(await fx.vhostExists(vhost)).toBe(false)
    })

    it('an import RabbitMQ refuses fails the restore, and undoRestore removes the vhost it created', async () => {
      const vhost = n.vhost('refused')
      const notes: Record<string, unknown>[] = []
      const ctx = {
        ...testContext(),
        created: (note: Record<string, unknown>) => (notes.push(note), () => undefined),
      }
      const bad = Buffer.from(
        JSON.stringify({
          queues: [{ name: 'q', durable: true, arguments: { 'x-queue-type': 'no-such-type' } }],
        }),
      )
      const err = await rejection(plugin.restore(ep({ vhost }), Readable.from([bad]), ctx))
      expect(err).toBeInstanceOf(PluginError)
      expect(err.message).toMatch(/^RabbitMQ refused to import the definitions \(HTTP 400\): /)
      expect(notes).toEqual([{ vhosts: [vhost] }])
      expect(await fx.vhostExists(vhost)).toBe(true)
      const undo = testContext()
      await plugin.undoRestore!(ep({ vhost }), notes[0]!, undo)
      expect(undo.lines).toEqual([`removed vhost "${vhost}", which the failed restore had created`])
      expect(await fx.vhostExists(vhost)).toBe(false)
      await plugin.undoRestore!(ep({ vhost }), notes[0]!, testContext()) // idempotent
    })
  })
})
