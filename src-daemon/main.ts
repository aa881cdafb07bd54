// Composition root: platform → catalog → plugin host → services → scheduler → API.
// `startDaemon` is what `bulwark daemon`, the desktop app and the tests run.
import { existsSync, unlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAEMON_FILE, TOKEN_FILE, type DaemonFile } from './contract'
import { buildApi } from './api/server'
import { allowedHosts } from './api/guard'
import { OneTimeCodes } from './api/one-time'
import { METRICS_TOKEN_FILE } from './api/routes/metrics'
import { DownloadTickets } from './api/tickets'
import { signInLink } from './api/routes/auth'
import { Catalog } from './catalog/catalog'
import { openCatalog } from './catalog/db'
import { PluginRegistry } from './plugin-host/registry'
import {
  discoverExternalPlugins,
  externalPluginsBeside,
  registerExternalPlugins,
} from './plugin-host/external'
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
import { undoLeftoverRestores } from './tasks/restore-undo'
import { Scheduler } from './scheduler/loop'
import { NotifyRules } from './notify/rules'
import { retryDelaysFrom } from './notify/delivery'
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
  /**
   * Run again, once, at start a scheduled backup that a stop, a crash or a
   * reboot cut short (BULWARK_RERUN_INTERRUPTED; default on).
   */
  rerunInterrupted?: boolean
  /** How long GC keeps an unreferenced chunk (BULWARK_GC_GRACE_HOURS, default 24). */
  gcGraceHours?: number
  /** How long a lock in a store lives without a refresh (BULWARK_LOCK_LEASE_SECONDS, default 300). */
  lockLeaseSeconds?: number
  /** How long a task waits for another's lock in a store (BULWARK_LOCK_WAIT_SECONDS, default 1800). */
  lockWaitSeconds?: number
  /** Where external (protocol) plugins live; default: the bundled ones and <data>/plugins. */
  pluginDirs?: string[]
  /** The built UI served at `/`; default: out/renderer beside the daemon bundle. */
  uiDir?: string
  /** Where the key sealing secrets.enc lives (BULWARK_KEYCHAIN; default auto). */
  keychain?: KeychainMode
  /** Adds plugins to the registry before anything uses it (an embedder's own, a test's). */
  plugins?: (registry: PluginRegistry) => void
  /** Waits before each retry of a notification (BULWARK_NOTIFY_RETRY_MS="2000,10000,60000", the default). */
  notifyRetryMs?: number[]
  /** The remote agents' listener (--agent-listen / BULWARK_AGENT_LISTEN); off when absent. */
  agentListen?: ListenAddress
  /** How long a task waits for its agent to connect (BULWARK_AGENT_WAIT_SECONDS, default 600). */
  agentWaitSeconds?: number
}

/** How long a printed sign-in link works (it works once). */
const SIGN_IN_TTL_MS = 24 * 3600_000

/**
 * plugins/external beside the build (out/main/daemon.js → ../../plugins/external).
 * In the packaged desktop app the build is inside app.asar, and the plugins,
 * executables that must be real files, are unpacked beside it (build/electron-builder.yml).
 */
export function bundledExternalPlugins(from = fileURLToPath(import.meta.url)): string {
  return externalPluginsBeside(from)
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
    if (orphans.length > 0)
      log.warn(`${orphans.length} task(s) were running when the daemon last stopped; marked failed`)
    const startedAt = clock.now()
    const registry = new PluginRegistry()
    const pluginDirs = config.pluginDirs ?? [bundledExternalPlugins(), join(dataDir, 'plugins')]
    const external = await discoverExternalPlugins(pluginDirs, { log: (l) => log.info(l) })
    registerExternalPlugins(registry, external, (l) => log.warn(l))
    config.plugins?.(registry)
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
      {
        lockLeaseMs: (config.lockLeaseSeconds ?? 300) * 1000,
        lockWaitMs: (config.lockWaitSeconds ?? 1800) * 1000,
      },
      config.agentWaitSeconds === undefined ? undefined : config.agentWaitSeconds * 1000,
    )
    cleanups.push(() => services.agentHub.close())
    if (config.agentListen) {
      try {
        await services.agentHub.listen(config.agentListen)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        const at = `${config.agentListen.host}:${config.agentListen.port}`
        if (code === 'EADDRINUSE')
          throw new ListenError(`${at} (--agent-listen) is already in use; choose another port`)
        if (code === 'EADDRNOTAVAIL')
          throw new ListenError(
            `cannot listen for agents on ${at}: no such address on this machine`,
          )
        throw err
      }
    }
    // One vault repository (store handles, opened vaults), shared by the tasks and the API.
    const runner = new TaskRunner(
      {
        catalog,
        queue,
        clock,
        registry,
        vault: services.vault.archives,
        log,
        target: (uuid) => services.targets.endpointFor(uuid),
        agents: services.agentHub,
        gcGraceMs: (config.gcGraceHours ?? 24) * 3600_000,
      },
      config.workers ?? 2,
    )
    // What restores that failed or died with the daemon created (a database) is
    // removed before any task runs (tasks/restore-undo.ts); tasks wait for it.
    const leftovers = new AbortController()
    const undone = undoLeftoverRestores(
      { catalog, registry, queue, log, target: (uuid) => services.targets.endpointFor(uuid) },
      leftovers.signal,
    )
    if (config.workers === 0) log.warn('BULWARK_WORKERS=0: tasks are queued but none run')
    else if (!undone) runner.start()
    else void undone.then(() => leftovers.signal.aborted || runner.start())
    cleanups.push(() => runner.stop())
    cleanups.push(async () => {
      leftovers.abort()
      await undone
    })
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
    // Before health starts, so the signals it raises at once are notified too;
    // links in notices use the URL once the API listens (notifyBase, below).
    let notifyBase = ''
    const notify = new NotifyRules({
      events,
      catalog,
      channels: services.channels,
      clock,
      log,
      url: () => notifyBase,
      retryMs: config.notifyRetryMs ?? retryDelaysFrom(process.env.BULWARK_NOTIFY_RETRY_MS),
    })
    notify.start()
    cleanups.push(() => notify.stop())
    // Tasks the last daemon left running ended (failed) before anyone listened.
    notify.endedBeforeStart(orphans.map((t) => t.uuid))
    if (config.rerunInterrupted !== false) services.jobs.rerunInterrupted(orphans)
    services.health.start()
    cleanups.push(() => services.health.stop())
    const token = loadOrCreateToken(dataDir, TOKEN_FILE)
    // Read-only, for Prometheus: opens GET /metrics only, so a scrape config need not hold the API token.
    const metricsToken = loadOrCreateToken(dataDir, METRICS_TOKEN_FILE)
    const { host } = config.listen
    const anyHost = host === '0.0.0.0' || host === '::'
    let hosts: Set<string> | null = new Set()
    let url = ''
    const signIn = new OneTimeCodes(clock, SIGN_IN_TTL_MS)
    const app = buildApi({
      services,
      token,
      metricsToken,
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
    notifyBase = url
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
