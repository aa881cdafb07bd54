// `bulwark daemon`: runs the daemon headless until SIGINT/SIGTERM (or, with
// --shutdown-on-stdin, until its parent closes our stdin).
import { DEFAULT_LISTEN } from './contract'
import { DataDirLockedError } from './platform/lock'
import { parseListen } from './platform/listen'
import { startEntry } from './platform/entry'
import { defaultDataDir } from './platform/paths'
import { SecretsKeyError, parseKeychainMode } from './platform/secrets-key'
import { ListenError, VERSION, startDaemon } from './main'

const HELP = `Usage: bulwark daemon [options]

Runs the Bulwark daemon: the catalog, the scheduler and the /v1 API.

Options:
  --data-dir DIR        where the catalog, token and secrets live
                        (default: $BULWARK_HOME, else the platform data directory)
  --listen HOST:PORT    address to listen on (default: $BULWARK_LISTEN, else ${DEFAULT_LISTEN});
                        port 0 picks a free port
  --agent-listen HOST:PORT  where remote agents connect (TLS; default: $BULWARK_AGENT_LISTEN,
                        else off); a port alone listens on all addresses
  --log-level LEVEL     debug, info, warn or error (default: $BULWARK_LOG_LEVEL, else info)
  --ready-json          print one JSON line {"ready":true,"url",...} on stdout once listening
  --shutdown-on-stdin   exit when stdin closes (used by the desktop app)
  -h, --help            show this help
`

async function main(): Promise<number> {
  const start = startEntry('bulwark daemon', HELP, {
    listen: { type: 'string' },
    'agent-listen': { type: 'string' },
    'ready-json': { type: 'boolean' },
    'shutdown-on-stdin': { type: 'boolean' },
  })
  if (typeof start === 'number') return start
  const { args, log, dataDir } = start
  // Listen for stop signals before starting, so one that arrives mid-start still shuts down cleanly.
  const stopped = new Promise<void>((resolve) => {
    let stopping = false
    const stop = (why: string) => {
      if (stopping) return
      stopping = true
      log.info(`stopping (${why})`)
      resolve()
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    if (args['shutdown-on-stdin']) {
      // A parent that died leaves our stdout and stderr pipes broken: a log
      // line written then must not crash the orderly stop that follows.
      process.stdout.on('error', () => {})
      process.stderr.on('error', () => {})
      process.stdin.on('end', () => stop('stdin closed'))
      process.stdin.on('close', () => stop('stdin closed'))
      process.stdin.resume()
    }
  })
  let daemon
  try {
    const listen = parseListen(args.listen ?? process.env.BULWARK_LISTEN ?? DEFAULT_LISTEN)
    const agentListenText = args['agent-listen'] ?? process.env.BULWARK_AGENT_LISTEN
    const agentListen = agentListenText
      ? parseListen(/^\d+$/.test(agentListenText) ? `0.0.0.0:${agentListenText}` : agentListenText)
      : undefined
    const extraHosts = (process.env.BULWARK_ALLOWED_HOSTS ?? '').split(',').filter(Boolean)
    const workers = Number.parseInt(process.env.BULWARK_WORKERS ?? '2', 10)
    daemon = await startDaemon({
      dataDir,
      listen,
      log,
      extraHosts,
      workers: Number.isInteger(workers) && workers >= 0 ? workers : 2,
      devMode: process.env.BULWARK_MODE === 'DEV',
      catchUp: !['0', 'false', 'no'].includes((process.env.BULWARK_CATCH_UP ?? '').toLowerCase()),
      rerunInterrupted: !['0', 'false', 'no'].includes(
        (process.env.BULWARK_RERUN_INTERRUPTED ?? '').toLowerCase(),
      ),
      keychain: parseKeychainMode(process.env.BULWARK_KEYCHAIN),
      pluginDirs: process.env.BULWARK_PLUGIN_DIRS?.split(':').filter(Boolean),
      gcGraceHours: numberEnv('BULWARK_GC_GRACE_HOURS'),
      lockLeaseSeconds: numberEnv('BULWARK_LOCK_LEASE_SECONDS'),
      lockWaitSeconds: numberEnv('BULWARK_LOCK_WAIT_SECONDS'),
      agentListen,
      agentWaitSeconds: numberEnv('BULWARK_AGENT_WAIT_SECONDS'),
    })
  } catch (err) {
    const known =
      err instanceof DataDirLockedError ||
      err instanceof ListenError ||
      err instanceof SecretsKeyError
    process.stderr.write(
      `bulwark daemon: ${known ? (err as Error).message : String((err as Error).stack ?? err)}\n`,
    )
    return 1
  }
  if (args['ready-json']) {
    process.stdout.write(
      JSON.stringify({
        ready: true,
        url: daemon.url,
        pid: process.pid,
        version: VERSION,
        data_dir: dataDir,
        signin_url: daemon.signInUrl,
      }) + '\n',
    )
  } else {
    process.stdout.write(
      `Bulwark ${VERSION} daemon listening on ${daemon.url}\n` +
        `  open the UI:    ${daemon.signInUrl}\n` +
        `                  (this link signs one browser in, once; "bulwark ui" prints a new one)\n` +
        `  data directory: ${dataDir}\n` +
        `  API token:      ${dataDir}/token (send it as "Authorization: Bearer <token>")\n` +
        `  CLI:            ${cliHint(dataDir)}\n` +
        `Press Ctrl+C to stop.\n`,
    )
  }
  await stopped
  await daemon.close()
  process.stdin.destroy()
  return 0
}

process.exit(await main())

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * The banner's CLI line. A new shell finds this daemon by itself only when it
 * uses the default data directory; otherwise the hint carries --data-dir.
 */
function cliHint(dataDir: string): string {
  if (dataDir === defaultDataDir(process.env)) {
    return 'npx bulwark status   (the CLI finds this daemon by itself)'
  }
  return `npx bulwark --data-dir ${shellQuote(dataDir)} status   (or export BULWARK_HOME=${shellQuote(dataDir)})`
}

/** A non-negative number from the environment, or undefined when unset or not one. */
function numberEnv(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw)
  return Number.isFinite(n) && n >= 0 ? n : undefined
}
