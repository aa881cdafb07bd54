// The daemon's services wired in-process over a real SQLite catalog in a temp
// directory, with a clock the test moves by hand.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Catalog } from '../../src-daemon/catalog/catalog'
import { openCatalog } from '../../src-daemon/catalog/db'
import type { PluginInfo } from '../../src-daemon/contract'
import { PluginRegistry } from '../../src-daemon/plugin-host/registry'
import { createLogger } from '../../src-daemon/platform/logger'
import { MemorySecretStore } from '../../src-daemon/platform/secrets'
import { EventBus, createServices } from '../../src-daemon/services'
import { TaskQueue } from '../../src-daemon/tasks/queue'
import { tempDir } from './daemon'

export class FakeClock {
  constructor(public t: number) {}
  now = () => this.t
  set(iso: string) {
    this.t = Date.parse(iso)
  }
  advance(ms: number) {
    this.t += ms
  }
}

const fakePlugin = (kind: 'target' | 'store', name: string): PluginInfo => ({
  name,
  kind,
  title: name,
  version: '0',
  author: 'test',
  summary: '',
  source: 'builtin',
  fields: [{ name: 'path', title: 'Path', type: 'string' }],
  capabilities: [],
})

export function inProcess(startIso: string) {
  const clock = new FakeClock(Date.parse(startIso))
  const db = openCatalog(join(tempDir(), 'catalog.db'))
  const catalog = new Catalog(db)
  const events = new EventBus()
  const queue = new TaskQueue(catalog, clock, (e) => events.emit(e))
  const registry = new PluginRegistry([])
  registry.add(fakePlugin('target', 'faketarget'), async () => {
    throw new Error('not runnable')
  })
  registry.add(fakePlugin('store', 'fakestore'), async () => {
    throw new Error('not runnable')
  })
  const log = createLogger('error')
  const services = createServices(
    {
      catalog,
      registry,
      secrets: new MemorySecretStore(),
      clock,
      events,
      queue,
      log,
      timezone: 'UTC',
    },
    { version: 'test', startedAt: clock.now(), dataDir: '/nowhere' },
  )
  /** A job on `when` (verifying on `verify`, if given), with a target, store and a one-day retention policy. */
  function job(when: string, opts: { timezone?: string; paused?: boolean; verify?: string } = {}) {
    const target = services.targets.create({ name: 't', plugin: 'faketarget', endpoint: {} })
    // Each job its own store, each store its own place (two on one are refused).
    const store = services.stores.create({
      name: 's',
      plugin: 'fakestore',
      endpoint: { path: `/fake/${randomUUID()}` },
    })
    const schedule = services.schedules.create({
      name: 'sch',
      when,
      timezone: opts.timezone ?? 'UTC',
    })
    const retention = services.retention.create({ name: 'r', expires: 86400 })
    const verify =
      opts.verify === undefined
        ? undefined
        : services.schedules.create({ name: 'vsch', when: opts.verify, timezone: 'UTC' })
    return services.jobs.create({
      name: `job ${when}`,
      target,
      store,
      schedule,
      retention,
      paused: opts.paused,
      verify_schedule: verify,
    })
  }
  return { clock, catalog, queue, services, log, job, close: () => db.close() }
}
