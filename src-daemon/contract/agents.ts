// Wire shapes of remote agents (/v1/agents): a Bulwark on the data's own host
// that dials out to the daemon's agent listener, pairs once with a one-time
// token and then runs targets' backups and restores there.
import { Type, type Static } from '@sinclair/typebox'

export const AgentCreate = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'letters, digits, dots, dashes and underscores',
    }),
  },
  { additionalProperties: false },
)
export type AgentCreateInput = Static<typeof AgentCreate>

/** pending: created, its pairing token not used yet; connected; offline: paired, not connected now. */
export type AgentState = 'pending' | 'connected' | 'offline'

export interface AgentView {
  uuid: string
  name: string
  state: AgentState
  /** The host name the agent reported (empty until paired). */
  host: string
  /** The agent's Bulwark version (empty until paired). */
  version: string
  created_at: string
  paired_at: string | null
  /** When the agent was last connected (now, while connected); null if never. */
  last_seen: string | null
  /** The targets that name this agent. */
  targets: { uuid: string; name: string }[]
}

/** POST /v1/agents: the one line to run on the agent's host, with its one-time token. */
export interface AgentCreated {
  ok: 'created'
  uuid: string
  token: string
  /** e.g. `bulwark agent --server https://10.0.0.1:7412 --pair <token>` */
  command: string
  /** When the token stops working (it works once). */
  expires_at: string
}

/**
 * POST /v1/agent/:ref/token: a new one-time token for an agent that exists
 * (its host rebuilt, its key lost). Pairing with it replaces the agent's key:
 * the old one is refused from then on. Its targets stay as they are.
 */
export interface AgentToken extends Omit<AgentCreated, 'ok'> {
  ok: 'token'
}

/** How long a pairing token works. */
export const PAIRING_TTL_MS = 15 * 60_000
/** The agents' listener port when only a host is given. */
export const DEFAULT_AGENT_PORT = 7412
