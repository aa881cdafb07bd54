// How an agent signs in to the daemon's listener: once with the one-time
// pairing token (giving its public key), after that by signing the daemon's
// nonce with that key. Checks the catalog's agent row and records the host,
// version and time; the hub (hub.ts) refuses the connection when these
// return undefined.
import { createHash, createPublicKey, verify } from 'node:crypto'
import type { Catalog } from '../catalog/catalog'
import type { AgentRow } from '../catalog/rows'
import { authMessage, type FromAgent } from './protocol'

export const tokenHash = (secret: string): string =>
  createHash('sha256').update(secret).digest('hex')

/** A pairing token: the one-time secret, then the listener certificate's fingerprint. */
export function splitToken(token: string): { secret: string; fingerprint: string } | null {
  const m = /^([A-Za-z0-9_-]{20,})\.([A-Za-z0-9_-]{43})$/.exec(token.trim())
  return m ? { secret: m[1]!, fingerprint: m[2]! } : null
}

/** A pairing: the token must be known and unexpired, the key ed25519; replaces the key. */
export function pairAgent(
  catalog: Catalog,
  now: number,
  msg: Extract<FromAgent, { t: 'pair' }>,
  refuse: (m: string) => void,
): AgentRow | undefined {
  const row = catalog.agents.where({ token_hash: tokenHash(String(msg.token)) })[0]
  // A paired agent given a new token (POST /v1/agent/:ref/token) pairs again: its key is replaced.
  if (!row || !row.token_hash) {
    refuse(
      'the pairing token is not valid (a token works once): print a new one on the daemon with "bulwark pair agent NAME"',
    )
    return undefined
  }
  if ((row.token_expires_at ?? 0) <= now) {
    refuse(
      `the pairing token of agent "${row.name}" has expired: create a new agent and pair with its token`,
    )
    return undefined
  }
  try {
    const key = createPublicKey(String(msg.public_key))
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519')
  } catch {
    refuse('the agent sent a public key that is not an ed25519 key')
    return undefined
  }
  const patch = {
    public_key: String(msg.public_key),
    token_hash: '',
    token_expires_at: null,
    host: String(msg.host).slice(0, 200),
    version: String(msg.version).slice(0, 50),
    paired_at: now,
    last_seen: now,
  }
  catalog.agents.update(row.uuid, patch)
  return { ...row, ...patch }
}

/** A sign-in: the signature of the nonce must verify with the key the agent paired with. */
export function authAgent(
  catalog: Catalog,
  now: number,
  msg: Extract<FromAgent, { t: 'auth' }>,
  nonce: string,
  refuse: (m: string) => void,
): AgentRow | undefined {
  const row = catalog.agents.get(String(msg.uuid))
  if (!row || !row.public_key) {
    refuse('this agent is not known to the daemon (it was removed): pair it again with a new token')
    return undefined
  }
  let ok: boolean
  try {
    ok = verify(
      null,
      authMessage(nonce, row.uuid),
      createPublicKey(row.public_key),
      Buffer.from(String(msg.signature), 'base64'),
    )
  } catch {
    ok = false
  }
  if (!ok) {
    refuse(`the agent's key does not match the one agent "${row.name}" paired with`)
    return undefined
  }
  const patch = {
    host: String(msg.host).slice(0, 200),
    version: String(msg.version).slice(0, 50),
    last_seen: now,
  }
  catalog.agents.update(row.uuid, patch)
  return { ...row, ...patch }
}
