// Targets and stores: named, plugin-backed endpoints. Both behave the same
// way (validated endpoint, write-only secrets, delete refused while a job uses
// one), so one service serves both, told which kind it is.
import { randomUUID } from 'node:crypto'
import {
  BulwarkError,
  ErrorCode,
  notFound,
  type PluginInfo,
  type PluginKind,
  type Store,
  type Target,
  type ConnectionTest,
} from '../contract'
import type { StoreRow, TargetRow } from '../catalog/rows'
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
import { assertUnused } from './usage'

const TEST_TIMEOUT_MS = 30_000

export interface PluginResourceInput {
  name: string
  summary?: string
  plugin: string
  endpoint: unknown
  agent?: string
}

type Row = TargetRow | StoreRow
type View<K extends PluginKind> = K extends 'target' ? Target : Store

export class PluginResourceService<K extends PluginKind> {
  private readonly table: 'targets' | 'stores'

  constructor(
    private readonly ctx: ServiceContext,
    private readonly kind: K,
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

  create(input: PluginResourceInput): string {
    const uuid = randomUUID()
    const plugin = this.plugin(input.plugin)
    const values = checkEndpoint(plugin, parseEndpoint(input.endpoint))
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
    if (this.kind === 'target')
      this.ctx.catalog.targets.insert({ ...row, agent: input.agent ?? '' })
    else this.ctx.catalog.stores.insert(row)
    this.ctx.events.emit({ type: 'resource', kind: this.kind, uuid, action: 'created' })
    return uuid
  }

  update(uuid: string, input: PluginResourceInput): void {
    const existing = this.row(uuid)
    const plugin = this.plugin(input.plugin)
    const owner = `${this.kind}/${uuid}`
    // Secrets sent back redacted are kept, unless the plugin itself changed.
    const kept =
      existing.plugin === plugin.name ? storedSecretReader(owner, this.ctx.secrets) : undefined
    const values = checkEndpoint(plugin, parseEndpoint(input.endpoint), kept)
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
      this.ctx.catalog.targets.update(uuid, { ...patch, agent: input.agent ?? '' })
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

  /** The full endpoint, secrets included, for handing to the plugin. Never serve it. */
  endpointFor(uuid: string): { plugin: string; endpoint: EndpointValues } {
    const row = this.row(uuid)
    const plugin = this.ctx.registry.find(this.kind, row.plugin)
    return {
      plugin: row.plugin,
      endpoint: resolvedEndpoint(plugin, `${this.kind}/${uuid}`, row.endpoint, this.ctx.secrets),
    }
  }

  /** Sets one secret field (a vault password the daemon generated, say). */
  setSecret(uuid: string, field: string, value: string): void {
    this.row(uuid)
    this.ctx.secrets.set(`${this.kind}/${uuid}/${field}`, value)
  }

  /** Asks the plugin whether it can reach the endpoint; the answer is for a person. */
  async test(uuid: string): Promise<ConnectionTest> {
    const { plugin, endpoint } = this.endpointFor(uuid)
    const lines: string[] = []
    const ctx = { signal: AbortSignal.timeout(TEST_TIMEOUT_MS), log: (l: string) => lines.push(l) }
    const started = this.ctx.clock.now()
    try {
      const impl =
        this.kind === 'target'
          ? await this.ctx.registry.target(plugin)
          : await this.ctx.registry.store(plugin)
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
    return ('agent' in row ? { ...base, agent: row.agent } : base) as View<K>
  }
}
