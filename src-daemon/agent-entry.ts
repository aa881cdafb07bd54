// `bulwark agent`: a remote agent on the data's own host. With --server and
// --pair it pairs first (the one line "bulwark create agent" printed); then,
// and on every later start, it runs from its data directory's agent.json,
// dialing out to the daemon and reconnecting until SIGINT/SIGTERM.
import { fileURLToPath } from 'node:url'
import { Agent } from './agents/agent'
import { AgentRefusedError, loadAgentConfig, newAgentConfig } from './agents/agent-config'
import { splitToken } from './agents/sign-in'
import {
  discoverExternalPlugins,
  externalPluginsBeside,
  registerExternalPlugins,
} from './plugin-host/external'
import { PluginRegistry } from './plugin-host/registry'
import { ensurePrivateDir } from './platform/files'
import { startEntry } from './platform/entry'
import pkg from '../package.json'

const HELP = `Usage: bulwark agent [--server URL --pair TOKEN] [options]

Runs a Bulwark agent: backups and restores of targets that name this agent
run here, on the data's own host. The agent connects to the daemon (the
daemon never connects to it), so it works behind NAT.

  First time:  bulwark agent --server https://DAEMON:7412 --pair TOKEN
               (the line "bulwark create agent --name NAME" prints on the daemon)
  Afterwards:  bulwark agent        (or its service: build/bulwark-agent.service)

Options:
  --server URL          the daemon's agent listener (with --pair)
  --pair TOKEN          the one-time pairing token
  --data-dir DIR        where the agent keeps agent.json (its key; default: $BULWARK_HOME,
                        else the platform data directory)
  --log-level LEVEL     debug, info, warn or error (default: info)
  -h, --help            show this help
`

async function main(): Promise<number> {
  const start = startEntry('bulwark agent', HELP, {
    server: { type: 'string' },
    pair: { type: 'string' },
  })
  if (typeof start === 'number') return start
  const { args, log, dataDir } = start
  ensurePrivateDir(dataDir)
  let config
  let pairWith: string | undefined
  try {
    if (args.pair !== undefined || args.server !== undefined) {
      if (!args.pair || !args.server) {
        throw new AgentRefusedError('pairing needs both --server URL and --pair TOKEN')
      }
      config = newAgentConfig(args.server, args.pair)
      pairWith = splitToken(args.pair)!.secret
    } else {
      config = loadAgentConfig(dataDir)
      if (!config?.uuid) {
        throw new AgentRefusedError(
          `this host's agent is not paired yet (no ${dataDir}/agent.json): on the daemon run "bulwark create agent --name NAME", then run the line it prints here`,
        )
      }
    }
  } catch (err) {
    process.stderr.write(`bulwark agent: ${(err as Error).message}\n`)
    return 2
  }
  const registry = new PluginRegistry()
  const external = await discoverExternalPlugins(
    [externalPluginsBeside(fileURLToPath(import.meta.url))],
    {
      log: (l) => log.info(l),
    },
  )
  registerExternalPlugins(registry, external, (l) => log.warn(l))
  const backoff = Number(process.env.BULWARK_AGENT_BACKOFF_MS)
  const agent = new Agent({
    dataDir,
    config,
    registry,
    log,
    version: pkg.version,
    pairWith,
    backoffMs: Number.isFinite(backoff) && backoff > 0 ? [backoff, backoff * 8] : undefined,
  })
  log.info(
    `Bulwark ${pkg.version} agent, data directory ${dataDir}, connecting to ${config.server}`,
  )
  const stopping = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  const ran = agent.start()
  const refused = await Promise.race([stopping.then(() => false), ran.then(() => true)])
  await agent.stop()
  return refused ? 1 : 0
}

process.exit(await main())
