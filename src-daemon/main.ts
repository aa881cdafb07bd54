// Composition root: platform → catalog → plugin host → services → scheduler → API.
// `startDaemon` is what `bulwark daemon`, the desktop app and the tests run.
import { existsSync, unlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAEMON_FILE, TOKEN_FILE, type DaemonFile } from './contract'
import { buildApi } from './api/server'
import { allowedHosts } from './api/guard'
import { OneTimeCodes } from './api/one-time'
import { DownloadTickets } from './api/tickets'
import { signInLink } from './api/routes/auth'
import { Catalog } from './catalog/catalog'
import { openCatalog } from './catalog/db'
import { PluginRegistry } from './plugin-host/registry'
import { discoverExternalPlugins, registerExternalPlugins } from './plugin-host/external'
import { systemClock, toIso, type Clock } from './platform/clock'
import { ensurePrivateDir, writeFileAtomic } from './platform/files'
import { loadOrCreateIdentity, loadOrCreateToken } from './platform/keys'
import type { ListenAddress } from './platform/listen'
import { lockDataDir } from './platform/lock'
import type { Logger } from './platform/logger'
import { FileSecretStore } from './platform/secrets'
import { loadSecretsKey, type KeychainMode } from './platform/secrets-key'
import { defaultTimezone } from './scheduler/timespec'
import { EventBus, createServices } from './services'
import { TaskQueue } from './tasks/queue'
import { TaskRunner } from './tasks/runner'
import { Scheduler } from './scheduler/loop'
import pkg from '../package.json'

export const VERSION: string = pkg.version

export interface DaemonConfig {
  dataDir: string
  listen: ListenAddress
  log: Logger
  clock?: Clock
  timezone?: string
  /** Extra Host header names to accept (a reverse proxy's name, say). */
  extraHosts?: string[]
  /** How many tasks run at once (BULWARK_WORKERS); 0 queues tasks without running them. */
  workers?: number
  /** BULWARK_MODE=DEV: every schedule fires every minute. */
  devMode?: boolean
  /** Run a schedule missed while the daemon was down, once, at start (default on). */
  catchUp?: boolean
  /** How long GC keeps an unreferenced chunk (BULWARK_GC_GRACE_HOURS, default 24). */
  gcGraceHours?: number
  /** Where external (protocol) plugins live; default: the bundled ones and <data>/plugins. */
  pluginDirs?: string[]
  /** The built UI served at `/`; default: out/renderer beside the daemon bundle. */
  uiDir?: string
  /** Where the key sealing secrets.enc lives (BULWARK_KEYCHAIN; default auto). */
  keychain?: KeychainMode
}

/** How long a printed sign-in link works (it works once). */
const SIGN_IN_TTL_MS = 24 * 3600_000

/** plugins/external beside the build (out/main/daemon.js → ../../plugins/external). */
function bundledExternalPlugins(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../plugins/external')
}

/** out/renderer beside the build (out/main/daemon.js → ../renderer). */
function bundledUi(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../renderer')
}

export interface Daemon {
  url: string
  /** A one-time link that signs a browser in to the UI. */
  signInUrl: string
  dataDir: string
  close(): Promise<void>
}

export class ListenError extends Error {}

export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  const { dataDir, log } = config
  const clock = config.clock ?? systemClock
  ensurePrivateDir(dataDir)
  const unlock = lockDataDir(dataDir)
  const cleanups: (() => void | Promise<void>)[] = [unlock]
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn()
  }
  try {
    // Before anything else: a data directory whose key cannot be had does not start.
    const secretsKey = await loadSecretsKey(dataDir, config.keychain ?? 'auto', log)
    const db = openCatalog(join(dataDir, 'catalog.db'))
    cleanups.push(() => {
      db.close()
    })
    const catalog = new Catalog(db)
    const events = new EventBus()
    const queue = new TaskQueue(catalog, clock, (e) => events.emit(e))
    const orphans = queue.failOrphans()
    if (orphans > 0)
      log.warn(`${orphans} task(s) were running when the daemon last stopped; marked failed`)
    const startedAt = clock.now()
    const registry = new PluginRegistry()
    const pluginDirs = config.pluginDirs ?? [bundledExternalPlugins(), join(dataDir, 'plugins')]
    const external = await discoverExternalPlugins(pluginDirs, { log: (l) => log.info(l) })
    registerExternalPlugins(registry, external, (l) => log.warn(l))
    const services = createServices(
      {
        catalog,
        registry,
        secrets: new FileSecretStore(dataDir, secretsKey),
        clock,
        events,
        queue,
        log,
        timezone: config.timezone ?? defaultTimezone(),
      },
      { version: VERSION, startedAt, dataDir },
    )
    // One store handle and one set of opened vaults, shared by the tasks and the API.
    const runner = new TaskRunner(
      {
        catalog,
        queue,
        clock,
        registry,
        archives: services.vault.archives,
        log,
        target: (uuid) => services.targets.endpointFor(uuid),
        store: (uuid) => services.vault.handle(uuid),
        gcGraceMs: (config.gcGraceHours ?? 24) * 3600_000,
      },
      config.workers ?? 2,
    )
    if (config.workers === 0) log.warn('BULWARK_WORKERS=0: tasks are queued but none run')
    else runner.start()
    cleanups.push(() => runner.stop())
    const scheduler = new Scheduler({
      clock,
      log,
      jobs: () => services.jobs.schedulable(),
      fire: (job) => services.jobs.runScheduled(job.uuid),
      markFired: (uuid, at) => services.jobs.markFired(uuid, at),
      housekeeping: () => services.archives.expireDue(),
      devMode: config.devMode,
      catchUp: config.catchUp,
    })
    if (config.devMode) log.warn('BULWARK_MODE=DEV: every schedule fires every minute')
    scheduler.start()
    cleanups.push(() => scheduler.stop())
    const token = loadOrCreateToken(dataDir, TOKEN_FILE)
    const { host } = config.listen
    const anyHost = host === '0.0.0.0' || host === '::'
    let hosts: Set<string> | null = new Set()
    let url = ''
    const signIn = new OneTimeCodes(clock, SIGN_IN_TTL_MS)
    const app = buildApi({
      services,
      token,
      signIn,
      downloads: new DownloadTickets(clock),
      url: () => url,
      dataDir,
      uiDir: config.uiDir ?? bundledUi(),
      version: VERSION,
      pubkey: loadOrCreateIdentity(dataDir),
      log,
      hosts: () => hosts,
    })
    await listen(app, config.listen)
    cleanups.push(() => app.close())
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : config.listen.port
    hosts = anyHost ? null : allowedHosts(host, port, config.extraHosts)
    const urlHost = anyHost ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
    url = `http://${urlHost}:${port}`
    const daemonFile: DaemonFile = {
      url,
      pid: process.pid,
      version: VERSION,
      started_at: toIso(startedAt),
    }
    const daemonPath = join(dataDir, DAEMON_FILE)
    writeFileAtomic(daemonPath, JSON.stringify(daemonFile, null, 2) + '\n')
    cleanups.splice(1, 0, () => {
      if (existsSync(daemonPath)) unlinkSync(daemonPath)
    })
    log.info(`listening on ${url} with data directory ${dataDir}`)
    const signInUrl = signInLink({ codes: signIn, url: () => url }).url
    return { url, signInUrl, dataDir, close: cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}

async function listen(app: ReturnType<typeof buildApi>, at: ListenAddress): Promise<void> {
  try {
    await app.listen({ host: at.host, port: at.port })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw new ListenError(
        `${at.host}:${at.port} is already in use; choose another address with --listen (port 0 picks a free one)`,
      )
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new ListenError(`cannot listen on ${at.host}: no such address on this machine`)
    }
    throw err
  }
}
