// bulwark list|show|create|pair|delete agent: remote agents, Bulwark on a data's
// own host that dials out to the daemon's agent listener and runs the backups
// and restores of the targets that name it. `create agent` prints the one line
// to run there, with its one-time pairing token.
import type { AgentCreated, AgentToken, AgentView } from '../../contract/agents'
import type { Command, Context } from '../command'
import { fmtDate, shortUuid, truncate } from '../format'
import { resolveRef } from '../refs'
import { REF_ARG, nameFlag, printDone } from './common'

// The shared client has no agent calls; these follow its shape.
const listAgents = (ctx: Context) => ctx.client.request<AgentView[]>('GET', '/v1/agents')
const getAgent = (ctx: Context, uuid: string) =>
  ctx.client.request<AgentView>('GET', `/v1/agent/${encodeURIComponent(uuid)}`)

const resolve = (ctx: Context) => resolveRef('agent', ctx.args[0] ?? '', () => listAgents(ctx))

const targetNames = (a: AgentView) => a.targets.map((t) => t.name).join(', ')

/** "now" while connected, else when it last was ("never" before pairing). */
const lastSeen = (a: AgentView) => (a.state === 'connected' ? 'now' : fmtDate(a.last_seen))

export const agentCommands: Command[] = [
  {
    verb: 'list',
    noun: 'agent',
    summary: 'list remote agents: connected or not, their host and the targets that run on them',
    async run(ctx) {
      const items = await listAgents(ctx)
      if (ctx.json) return ctx.out.json(items)
      ctx.out.table(
        ['UUID', 'NAME', 'STATE', 'HOST', 'VERSION', 'LAST SEEN', 'TARGETS'],
        items.map((a) => [
          shortUuid(a.uuid),
          a.name,
          a.state,
          a.host || '-',
          a.version || '-',
          a.last_seen || a.state === 'connected' ? lastSeen(a) : 'never',
          truncate(targetNames(a), 50) || '-',
        ]),
        'no agents (bulwark create agent --name NAME adds one)',
      )
    },
  },
  {
    verb: 'show',
    noun: 'agent',
    args: [REF_ARG('agent')],
    summary: 'show one agent: its state, host, version, when it paired and its targets',
    async run(ctx) {
      const a = await getAgent(ctx, (await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(a)
      ctx.out.pairs([
        ['UUID', a.uuid],
        ['Name', a.name],
        ['State', a.state],
        ['Host', a.host || '-'],
        ['Version', a.version || '-'],
        ['Created', fmtDate(a.created_at, true)],
        ['Paired', a.paired_at ? fmtDate(a.paired_at, true) : 'not yet (its token is unused)'],
        ['Last seen', a.last_seen || a.state === 'connected' ? lastSeen(a) : 'never'],
        ['Targets', targetNames(a) || 'none'],
      ])
    },
  },
  {
    verb: 'create',
    noun: 'agent',
    summary: "create an agent and print the line that pairs it, to run on the agent's host",
    flags: [nameFlag('agent', true)],
    details:
      'The printed line holds a one-time pairing token: it works once, until the expiry printed\n' +
      'with it, and is not shown again (bulwark pair agent NAME prints a new one).\n' +
      "The agent dials out to the daemon's agent listener (bulwark daemon --agent-listen),\n" +
      "which must be reachable from the agent's host. Targets then name it with --agent NAME.\n" +
      'With --json: {"ok","uuid","token","command","expires_at"}.',
    async run(ctx) {
      const name = ctx.flags.str('name') ?? ''
      const res = await ctx.client.request<AgentCreated>('POST', '/v1/agents', { name })
      if (ctx.json) return ctx.out.json(res)
      ctx.out.line(`created agent "${name}" ${res.uuid}`)
      ctx.out.line(
        `Run this on the agent's host; its token works once, until ${fmtDate(res.expires_at)}:`,
      )
      ctx.out.line(res.command)
    },
  },
  {
    verb: 'pair',
    noun: 'agent',
    args: [REF_ARG('agent')],
    summary:
      'print a new pairing line for an agent (its host rebuilt, its key lost); its targets stay',
    details:
      "Pairing with the new one-time token replaces the agent's key: the old key is refused\n" +
      'from then on. With --json: {"ok","uuid","token","command","expires_at"}.',
    async run(ctx) {
      const ref = await resolve(ctx)
      const res = await ctx.client.request<AgentToken>(
        'POST',
        `/v1/agent/${encodeURIComponent(ref.uuid)}/token`,
      )
      if (ctx.json) return ctx.out.json(res)
      ctx.out.line(
        `Run this on the agent's host; its token works once, until ${fmtDate(res.expires_at)}:`,
      )
      ctx.out.line(res.command)
    },
  },
  {
    verb: 'delete',
    noun: 'agent',
    args: [REF_ARG('agent')],
    summary: 'delete an agent (refused while targets run on it)',
    async run(ctx) {
      const ref = await resolve(ctx)
      const res = await ctx.client.request<{ ok: 'deleted' }>(
        'DELETE',
        `/v1/agent/${encodeURIComponent(ref.uuid)}`,
      )
      printDone(ctx, res, 'deleted', 'agent', ref)
    },
  },
]
