// The /v1/agents calls, typed by the wire contract (src-daemon/contract/agents.ts),
// through the connection's one client so a revoked token still signs out.
import type { AgentCreated, AgentToken, AgentView } from '../../../../src-daemon/contract/agents'
import { useConnection } from '../../stores/connection'

const client = () => useConnection().client
const seg = (uuid: string) => encodeURIComponent(uuid)

export const listAgents = () => client().request<AgentView[]>('GET', '/v1/agents')

export const createAgent = (name: string) =>
  client().request<AgentCreated>('POST', '/v1/agents', { name })

export const deleteAgent = (uuid: string) =>
  client().request<{ ok: 'deleted' }>('DELETE', `/v1/agent/${seg(uuid)}`)

/** A new one-time pairing line for an agent that exists (pairing with it replaces its key). */
export const newAgentToken = (uuid: string) =>
  client().request<AgentToken>('POST', `/v1/agent/${seg(uuid)}/token`)
