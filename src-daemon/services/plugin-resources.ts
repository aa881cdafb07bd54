// Targets and stores: named, plugin-backed endpoints. Both behave the same
// way (validated endpoint, write-only secrets, delete refused while a job uses
// one), so one service serves both, told which kind it is.
import { randomUUID } from 'node:crypto'
import {
  BulwarkError,
  ErrorCode,
  invalid,
  notFound,
  type PluginInfo,
  type PluginKind,
  type Store,
  type Target,
  type ConnectionTest,
} from '../contract'
import type { StoreRow, TargetRow } from '../catalog/rows'
import type { TargetPlugin } from '../../plugins/sdk/types'
import type { ServiceContext } from './context'
import {
  checkEndpoint,
  forgetSecrets,
  parseEndpoint,
  redactedEndpoint,
  resolvedEndpoint,
  storedSecretReader,
  storeEndpoint,
  type EndpointValues,
} from './endpoints'
import { redactor } from '../platform/redact'
import { VAULT_PASSWORD_FIELD } from '../plugin-host/registry'
import { assertUnused } from './usage'
import {
  checkNewVaultPassword,
  locationOf,
  pluginEndpoint,
  refuseVaultPasswordChange,
} from './endpoint-rules'

const TEST_TIMEOUT_MS = 30_000

export interface PluginResourceInput {
  name: string
  summary?: string
  plugin: string
  endpoint: unknown
  agent?: string
}

/** How targets name their agent: a name or uuid in, the stored uuid, and back. */
export interface AgentNames {
  resolve(ref: string | undefined): string
  nameOf(uuid: string): string
  /** The plugin as it runs on the (connected) agent; throws saying why not. */
  remoteTarget(agent: string, plugin: string): TargetPlugin
}

type Row = TargetRow | StoreRow
type View<K extends PluginKind> = K extends 'target' ? Target : Store

export class PluginResourceService<K extends PluginKind> {
  private readonly table: 'targets' | 'stores'

  constructor(
    private readonly ctx: ServiceContext,
    private readonly kind: K,
    private readonly agents?: AgentNames,
  ) {
    this.table = kind === 'target' ? 'targets' : 'stores'
  }

  private get rows() {
    return this.kind === 'target' ? this.ctx.catalog.targets : this.ctx.catalog.stores
  }

  list(filter: { unused?: boolean; plugin?: string } = {}): View<K>[] {
    return this.ctx.catalog.listUsage<Row>(this.table, filter).map((r) => this.view(r))
  }

  get(uuid: string): View<K> {
    return this.view(this.row(uuid))
  }

  row(uuid: string): Row {
    const row = this.rows.get(uuid)
    if (!row) throw notFound(this.kind, uuid)
    return row
  }

  /** Checks a create body without storing anything: the plugin, and the endpoint with defaults. */
  check(input: PluginResourceInput): { plugin: PluginInfo; values: EndpointValues } {
    const plugin = this.plugin(input.plugin)
    return { plugin, values: checkEndpoint(plugin, parseEndpoint(input.endpoint)) }
  }

  /** A target's agent as stored (a uuid, '' for this host); a store has none. */
  private agentOf(input: PluginResourceInput): string {
    if (this.kind !== 'target') {
      if (input.agent) throw invalid('agent', 'stores have no agent: leave agent out')
      return ''
    }
    return this.agents ? this.agents.resolve(input.agent) : ''
  }

  create(input: PluginResourceInput): string {
    const agent = this.agentOf(input)
    const uuid = randomUUID()
    const plugin = this.plugin(input.plugin)
    const values = checkEndpoint(plugin, parseEndpoint(input.endpoint))
    if (this.kind === 'store') {
      checkNewVaultPassword(values[VAULT_PASSWORD_FIELD.name])
      this.assertLocationFree(plugin, values, undefined)
    }
    const now = this.ctx.clock.now()
    const endpoint = storeEndpoint(plugin, `${this.kind}/${uuid}`, values, this.ctx.secrets)
    const base = {
      uuid,
      name: input.name,
      summary: input.summary ?? '',
      plugin: plugin.name,
      endpoint,
    }
    const row = { ...base, created_at: now, updated_at: now }
    if (this.kind === 'target') this.ctx.catalog.targets.insert({ ...row, agent })
    else this.ctx.catalog.stores.insert(row)
    this.ctx.events.emit({ type: 'resource', kind: this.kind, uuid, action: 'created' })
    return uuid
  }

  update(uuid: string, input: PluginResourceInput): void {
    const existing = this.row(uuid)
    const agent = this.agentOf(input)
    const plugin = this.plugin(input.plugin)
    const owner = `${this.kind}/${uuid}`
    // Secrets sent back redacted are kept, unless the plugin itself changed.
    const kept =
      existing.plugin === plugin.name ? storedSecretReader(owner, this.ctx.secrets) : undefined
    const given = parseEndpoint(input.endpoint)
    if (this.kind === 'store') refuseVaultPasswordChange(uuid, given, kept)
    const values = checkEndpoint(plugin, given, kept)
    if (this.kind === 'store') this.assertLocationFree(plugin, values, uuid)
    if (existing.plugin !== plugin.name) forgetSecrets(owner, this.ctx.secrets)
    const endpoint = storeEndpoint(plugin, owner, values, this.ctx.secrets)
    const patch = {
      name: input.name,
      summary: input.summary ?? '',
      plugin: plugin.name,
      endpoint,
      updated_at: this.ctx.clock.now(),
    }
    if (this.kind === 'target') {
      this.ctx.catalog.targets.update(uuid, { ...patch, agent })
    } else {
      this.ctx.catalog.stores.update(uuid, patch)
    }
    this.ctx.events.emit({ type: 'resource', kind: this.kind, uuid, action: 'updated' })
  }

  delete(uuid: string): void {
    this.row(uuid)
    this.ctx.catalog.transaction(() => {
      assertUnused(this.ctx.catalog, this.table, this.kind, uuid)
      this.rows.delete(uuid)
    })
    forgetSecrets(`${this.kind}/${uuid}`, this.ctx.secrets)
    this.ctx.events.emit({ type: 'resource', kind: this.kind, uuid, action: 'deleted' })
  }

  /**
   * The endpoint a plugin call gets, its own secrets included: the one
   * function that builds every endpoint any plugin sees. The daemon's own
   * fields (a store's vault password) are never in it. Never serve it.
   */
  endpointFor(uuid: string): { plugin: string; endpoint: EndpointValues } {
    const row = this.row(uuid)
    const plugin = this.ctx.registry.find(this.kind, row.plugin)
    const values = resolvedEndpoint(plugin, `${this.kind}/${uuid}`, row.endpoint, this.ctx.secrets)
    return { plugin: row.plugin, endpoint: pluginEndpoint(values) }
  }

  /** A daemon-owned secret of the resource (a store's vault password). */
  secret(uuid: string, field: string): string | undefined {
    const value = this.ctx.secrets.get(`${this.kind}/${uuid}/${field}`)
    return value === '' ? undefined : value
  }

  /** Sets one secret field (a vault password the daemon generated, say). */
  setSecret(uuid: string, field: string, value: string): void {
    this.row(uuid)
    this.ctx.secrets.set(`${this.kind}/${uuid}/${field}`, value)
  }

  /** Asks the plugin whether it can reach the endpoint; the answer is for a person. */
  async test(uuid: string): Promise<ConnectionTest> {
    const { plugin, endpoint } = this.endpointFor(uuid)
    const row = this.row(uuid)
    return this.testEndpoint(plugin, endpoint, 'agent' in row ? row.agent : '')
  }

  /**
   * Tests an endpoint not saved yet (the form before Create): checked as
   * create checks it, then the plugin gets what endpointFor would give it,
   * the daemon's own fields (a store's vault password) left out.
   */
  async testUnsaved(input: {
    plugin: string
    endpoint: unknown
    agent?: string
  }): Promise<ConnectionTest> {
    const agent = this.agentOf(input as PluginResourceInput)
    const plugin = this.plugin(input.plugin)
    const values = checkEndpoint(plugin, parseEndpoint(input.endpoint))
    if (this.kind === 'store') checkNewVaultPassword(values[VAULT_PASSWORD_FIELD.name])
    return this.testEndpoint(plugin.name, pluginEndpoint(values), agent)
  }

  /** Runs the plugin's test, on the target's agent if it has one. */
  private async testEndpoint(
    plugin: string,
    endpoint: EndpointValues,
    agent = '',
  ): Promise<ConnectionTest> {
    const lines: string[] = []
    const ctx = { signal: AbortSignal.timeout(TEST_TIMEOUT_MS), log: (l: string) => lines.push(l) }
    const started = this.ctx.clock.now()
    try {
      const impl =
        this.kind === 'store'
          ? await this.ctx.registry.store(plugin)
          : agent && this.agents
            ? this.agents.remoteTarget(agent, plugin)
            : await this.ctx.registry.target(plugin)
      const message = await impl.test(endpoint, ctx)
      return { ok: true, message, duration_ms: this.ctx.clock.now() - started }
    } catch (err) {
      const message = ctx.signal.aborted
        ? `no answer within ${TEST_TIMEOUT_MS / 1000} s; check the host and port, and that a firewall lets the daemon through`
        : (err as Error).message
      return {
        ok: false,
        message: redactor.redact(message),
        duration_ms: this.ctx.clock.now() - started,
      }
    }
  }

  /**
   * Refuses a second store on the place another store already uses (the same
   * directory, the same bucket and prefix): GC, locks and the chunk index all
   * assume one store row per vault.
   */
  assertLocationFree(plugin: PluginInfo, values: EndpointValues, self: string | undefined): void {
    const here = locationOf(plugin, values)
    if (here === undefined) return
    for (const row of this.ctx.catalog.stores.where({ plugin: plugin.name })) {
      if (row.uuid === self) continue
      const other = locationOf(plugin, JSON.parse(row.endpoint) as EndpointValues)
      if (other === here) {
        throw new BulwarkError(
          ErrorCode.Conflict,
          `store "${row.name}" (${row.uuid}) already uses that location; use that store, or import it again with POST /v1/store/${row.uuid}/import to list archives added there since`,
          'endpoint',
          { store_uuid: row.uuid },
        )
      }
    }
  }

  /** The endpoint as reads show it, secrets redacted. */
  redacted(row: Pick<Row, 'uuid' | 'plugin' | 'endpoint'>): string {
    const plugin = this.ctx.registry.find(this.kind, row.plugin)
    return redactedEndpoint(plugin, `${this.kind}/${row.uuid}`, row.endpoint, this.ctx.secrets)
  }

  private plugin(name: string): PluginInfo {
    const plugin = this.ctx.registry.find(this.kind, name)
    if (!plugin) {
      const known = this.ctx.registry.list(this.kind).map((p) => p.name)
      throw new BulwarkError(
        ErrorCode.UnknownPlugin,
        `no ${this.kind} plugin named "${name}" is installed; installed ${this.kind} plugins: ${known.join(', ') || 'none'}`,
        'plugin',
      )
    }
    return plugin
  }

  private view(row: Row): View<K> {
    const base = {
      uuid: row.uuid,
      name: row.name,
      summary: row.summary,
      plugin: row.plugin,
      endpoint: this.redacted(row),
    }
    return (
      'agent' in row ? { ...base, agent: this.agents?.nameOf(row.agent) ?? row.agent } : base
    ) as View<K>
  }
}
