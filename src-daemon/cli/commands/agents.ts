// bulwark list|show|create|pair|delete agent: remote agents, Bulwark on a data's
// own host that dials out to the daemon's agent listener and runs the backups
// and restores of the targets that name it. `create agent` prints the one line
// to run there, with its one-time pairing token.
import type { BulwarkClient } from '../../client'
import type { AgentCreated, AgentToken, AgentView } from '../../contract/agents'
import type { Command, Context } from '../command'
import { fmtDate, shortUuid, truncate } from '../format'
import { nameFlag } from './common'
import { action, create, defineNoun, list, show } from './noun'

// The shared client has no agent calls; these follow its shape.
const listAgents = (c: BulwarkClient) => c.request<AgentView[]>('GET', '/v1/agents')
const agentPath = (uuid: string) => `/v1/agent/${encodeURIComponent(uuid)}`

const targetNames = (a: AgentView) => a.targets.map((t) => t.name).join(', ')

/** "now" while connected, else when it last was ("never" before pairing). */
const lastSeen = (a: AgentView) =>
  a.last_seen || a.state === 'connected'
    ? a.state === 'connected'
      ? 'now'
      : fmtDate(a.last_seen)
    : 'never'

/** The one-time line to run on the agent's host, after `create` or `pair`. */
function printPairing(ctx: Context, res: Pick<AgentToken, 'command' | 'expires_at'>): void {
  ctx.out.line(
    `Run this on the agent's host; its token works once, until ${fmtDate(res.expires_at)}:`,
  )
  ctx.out.line(res.command)
}

export const agentCommands: Command[] = defineNoun({
  noun: 'agent',
  refs: listAgents,
  verbs: [
    list({
      summary: 'list remote agents: connected or not, their host and the targets that run on them',
      fetch: (ctx) => listAgents(ctx.client),
      columns: [
        ['UUID', (a) => shortUuid(a.uuid)],
        ['NAME', (a) => a.name],
        ['STATE', (a) => a.state],
        ['HOST', (a) => a.host || '-'],
        ['VERSION', (a) => a.version || '-'],
        ['LAST SEEN', lastSeen],
        ['TARGETS', (a) => truncate(targetNames(a), 50) || '-'],
      ],
      empty: 'no agents (bulwark create agent --name NAME adds one)',
    }),
    show({
      summary: 'show one agent: its state, host, version, when it paired and its targets',
      get: (c, uuid) => c.request<AgentView>('GET', agentPath(uuid)),
      fields: [
        ['UUID', (a) => a.uuid],
        ['Name', (a) => a.name],
        ['State', (a) => a.state],
        ['Host', (a) => a.host || '-'],
        ['Version', (a) => a.version || '-'],
        ['Created', (a) => fmtDate(a.created_at, true)],
        [
          'Paired',
          (a) => (a.paired_at ? fmtDate(a.paired_at, true) : 'not yet (its token is unused)'),
        ],
        ['Last seen', lastSeen],
        ['Targets', (a) => targetNames(a) || 'none'],
      ],
    }),
    create({
      summary: "create an agent and print the line that pairs it, to run on the agent's host",
      flags: [nameFlag('agent', true)],
      details:
        'The printed line holds a one-time pairing token: it works once, until the expiry printed\n' +
        'with it, and is not shown again (bulwark pair agent NAME prints a new one).\n' +
        "The agent dials out to the daemon's agent listener (bulwark daemon --agent-listen),\n" +
        "which must be reachable from the agent's host. Targets then name it with --agent NAME.\n" +
        'With --json: {"ok","uuid","token","command","expires_at"}.',
      body: (ctx) => ({ name: ctx.flags.str('name') ?? '' }),
      call: (c, body) => c.request<AgentCreated>('POST', '/v1/agents', body),
      print(ctx, res, body) {
        if (ctx.json) return ctx.out.json(res)
        ctx.out.line(`created agent "${body.name}" ${res.uuid}`)
        printPairing(ctx, res)
      },
    }),
    action({
      verb: 'pair',
      summary:
        'print a new pairing line for an agent (its host rebuilt, its key lost); its targets stay',
      details:
        "Pairing with the new one-time token replaces the agent's key: the old key is refused\n" +
        'from then on. With --json: {"ok","uuid","token","command","expires_at"}.',
      call: (c, uuid) => c.request<AgentToken>('POST', `${agentPath(uuid)}/token`),
      print: (ctx, res) => (ctx.json ? ctx.out.json(res) : printPairing(ctx, res)),
    }),
    action({
      verb: 'delete',
      summary: 'delete an agent (refused while targets run on it)',
      call: (c, uuid) => c.request<{ ok: 'deleted' }>('DELETE', agentPath(uuid)),
    }),
  ],
})
