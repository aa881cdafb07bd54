// The agent's own file (agent.json in its data directory, 0600): the
// daemon's address, the certificate fingerprint and identity key pinned at
// pairing, and the agent's ed25519 key pair; and a new one from a pairing token.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { splitToken } from './sign-in'

export const AGENT_FILE = 'agent.json'

export interface AgentConfig {
  server: string
  /** The daemon's agent-listener certificate, pinned at pairing. */
  fingerprint: string
  /** Set once paired. */
  uuid?: string
  name?: string
  private_key: string
  public_key: string
  /** The daemon's identity key (SPKI PEM), pinned at pairing. */
  daemon_key?: string
}

export class AgentRefusedError extends Error {}

export function loadAgentConfig(dataDir: string): AgentConfig | undefined {
  const file = join(dataDir, AGENT_FILE)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as AgentConfig
}

/** A new key pair and the server's pinned fingerprint, from a pairing token. */
export function newAgentConfig(server: string, token: string): AgentConfig {
  const parts = splitToken(token)
  if (!parts) {
    throw new AgentRefusedError(
      'that is not a pairing token: copy the whole token "bulwark create agent" printed',
    )
  }
  const url = new URL(server)
  if (url.protocol !== 'https:') {
    throw new AgentRefusedError(
      `--server must be an https:// URL (the daemon's agent listener), not ${server}`,
    )
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    server: url.origin,
    fingerprint: parts.fingerprint,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}
