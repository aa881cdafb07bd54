// Remote agents as a resource: created with a one-time pairing token (only its
// hash is kept), listed with their connection state, removed (which
// disconnects them). Targets name an agent by name or uuid (resolve).
import { randomBytes, randomUUID } from 'node:crypto'
import { BulwarkError, ErrorCode, invalid, notFound } from '../contract'
import {
  PAIRING_TTL_MS,
  type AgentCreateInput,
  type AgentCreated,
  type AgentToken,
  type AgentView,
} from '../contract/agents'
import type { AgentRow } from '../catalog/rows'
import { PluginError } from '../../plugins/sdk/errors'
import type { TargetPlugin } from '../../plugins/sdk/types'
import { toIso } from '../platform/clock'
import { tokenHash, type AgentHub } from '../agents/hub'
import type { ServiceContext } from './context'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class AgentService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly hub: AgentHub,
  ) {}

  list(): AgentView[] {
    return this.ctx.catalog.agents.where({}).map((r) => this.view(r))
  }

  get(ref: string): AgentView {
    return this.view(this.row(ref))
  }

  private row(ref: string): AgentRow {
    const row = this.find(ref)
    if (!row) throw notFound('agent', ref)
    return row
  }

  private find(ref: string): AgentRow | undefined {
    const text = ref.trim()
    if (UUID.test(text)) return this.ctx.catalog.agents.get(text.toLowerCase())
    return this.ctx.catalog.agents.where({ name: text })[0]
  }

  async create(input: AgentCreateInput): Promise<AgentCreated> {
    if (this.find(input.name)) {
      throw invalid('name', `an agent named "${input.name}" exists already: pick another name`)
    }
    const now = this.ctx.clock.now()
    const uuid = randomUUID()
    this.ctx.catalog.agents.insert({
      uuid,
      name: input.name,
      public_key: '',
      token_hash: '',
      token_expires_at: null,
      host: '',
      version: '',
      created_at: now,
      paired_at: null,
      last_seen: null,
    })
    this.ctx.log.info(`agent "${input.name}" created; its pairing token works once, for 15 minutes`)
    return { ...(await this.pairing(uuid)), ok: 'created' }
  }

  /** A new one-time pairing token for an existing agent; pairing with it replaces its key. */
  async newToken(ref: string): Promise<AgentToken> {
    const row = this.row(ref)
    this.ctx.log.info(`agent "${row.name}": a new pairing token, which works once, for 15 minutes`)
    return { ...(await this.pairing(row.uuid)), ok: 'token' }
  }

  /** Stores a new token's hash for the agent; the token and the line that pairs with it. */
  private async pairing(uuid: string): Promise<Omit<AgentCreated, 'ok'>> {
    const tls = await this.hub.identity()
    // Starts with letters, so a command line never takes it for an option (base64url may start with '-').
    const secret = `bw${randomBytes(24).toString('base64url')}`
    const token = `${secret}.${tls.fingerprint}`
    const expires = this.ctx.clock.now() + PAIRING_TTL_MS
    this.ctx.catalog.agents.update(uuid, {
      token_hash: tokenHash(secret),
      token_expires_at: expires,
    })
    return {
      uuid,
      token,
      command: `bulwark agent --server ${this.hub.url()} --pair ${token}`,
      expires_at: toIso(expires),
    }
  }

  delete(ref: string): void {
    const row = this.row(ref)
    const users = this.ctx.catalog.targets.where({ agent: row.uuid })
    if (users.length > 0) {
      // The targets in the details too, so a client can link them without reading the message.
      throw new BulwarkError(
        ErrorCode.Validation,
        `agent "${row.name}" runs the target(s) ${users.map((t) => `"${t.name}"`).join(', ')}: move them to another agent or to this host first`,
        'agent',
        { targets: users.map((t) => ({ uuid: t.uuid, name: t.name })) },
      )
    }
    this.ctx.catalog.agents.delete(row.uuid)
    this.hub.revoke(row.uuid)
    this.ctx.log.info(`agent "${row.name}" removed`)
  }

  /** A target's `agent` field (a name or uuid, '' for this host) as the uuid stored. */
  resolve(ref: string | undefined): string {
    if (ref === undefined || ref.trim() === '') return ''
    const row = this.find(ref)
    if (row) return row.uuid
    const names = this.ctx.catalog.agents.where({}).map((r) => r.name)
    throw invalid(
      'agent',
      `no agent named "${ref.trim()}"` +
        (names.length
          ? `; the agents are: ${names.join(', ')}`
          : '; create one with "bulwark create agent --name NAME" and pair it on the data\'s host') +
        ' (or leave agent empty to run the target on this host)',
    )
  }

  /** A target plugin run on the agent now; throws (saying so) if it is not connected. */
  remoteTarget(agent: string, plugin: string): TargetPlugin {
    const link = this.hub.linkNow(agent)
    if (link) return link.target(plugin)
    const row = this.ctx.catalog.agents.get(agent)
    throw new PluginError(
      row
        ? `agent "${row.name}" is not connected${row.last_seen ? ` (last seen ${toIso(row.last_seen)})` : ''}: start it on its host, then test again`
        : "the target's agent no longer exists",
    )
  }

  /** A stored agent uuid as its name, for views ('' for this host). */
  nameOf(uuid: string): string {
    if (!uuid) return ''
    return this.ctx.catalog.agents.get(uuid)?.name ?? uuid
  }

  private view(row: AgentRow): AgentView {
    const connected = this.hub.connected(row.uuid)
    return {
      uuid: row.uuid,
      name: row.name,
      state: !row.public_key ? 'pending' : connected ? 'connected' : 'offline',
      host: row.host,
      version: row.version,
      created_at: toIso(row.created_at),
      paired_at: row.paired_at ? toIso(row.paired_at) : null,
      last_seen: connected
        ? toIso(this.ctx.clock.now())
        : row.last_seen
          ? toIso(row.last_seen)
          : null,
      targets: this.ctx.catalog.targets
        .where({ agent: row.uuid })
        .map((t) => ({ uuid: t.uuid, name: t.name })),
    }
  }
}
