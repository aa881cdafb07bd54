// Notification channels: named places the daemon sends notices to. Settings
// are checked against the kind's field specs exactly as plugin endpoints are
// (services/endpoints.ts), secrets kept in the secret store under
// "channel/<uuid>/<field>" and read back as <redacted>; sending <redacted>
// back on PUT keeps the stored one. What is sent, and when, is notify/rules.ts.
import { randomUUID } from 'node:crypto'
import {
  BulwarkError,
  CHANNEL_KINDS,
  ErrorCode,
  REDACTED,
  invalid,
  notFound,
  type Channel,
  type ChannelCreateInput,
  type ChannelKind,
  type ChannelKindInfo,
  type Delivery,
  type NotifyEvent,
} from '../contract'
import { ChannelsRepo, type ChannelRow, type DeliveryRow } from '../catalog/channels-repo'
import { toIso } from '../platform/clock'
import { redactor } from '../platform/redact'
import { channelKinds } from '../notify/kinds'
import { attemptDelivery, testNotice } from '../notify/delivery'
import { checkSettings } from '../notify/senders'
import {
  asPlugin,
  asSettingsError,
  checkKind,
  defaultEvents,
  listSecrets,
  parseList,
} from './channel-settings'
import type { ServiceContext } from './context'
import {
  checkEndpoint,
  forgetSecrets,
  redactedEndpoint,
  resolvedEndpoint,
  storedSecretReader,
  storeEndpoint,
  type EndpointValues,
} from './endpoints'

const DEFAULT_REMINDER_HOURS = 24
/** A test is a person waiting on a button: one attempt, bounded. */
const TEST_TIMEOUT_MS = 15_000

const owner = (uuid: string) => `channel/${uuid}`

export class ChannelService {
  readonly repo: ChannelsRepo
  /** The daemon's own URL for links in notices; set once it listens. */
  private daemonUrl: () => string | null = () => null

  constructor(private readonly ctx: ServiceContext) {
    this.repo = new ChannelsRepo(ctx.catalog.db)
    // A secret list (webhook secret headers) is kept as one JSON string: its
    // entries and header values must be masked in logs on their own too.
    for (const row of this.repo.where({})) this.maskListSecrets(row.kind as ChannelKind, row.uuid)
  }

  setDaemonUrl(url: () => string | null): void {
    this.daemonUrl = url
  }

  linkBase(): string | null {
    return this.daemonUrl() || null
  }

  kinds(): ChannelKindInfo[] {
    return channelKinds()
  }

  list(): Channel[] {
    return this.repo.where({}).map((r) => this.view(r))
  }

  get(uuid: string): Channel {
    return this.view(this.row(uuid))
  }

  row(uuid: string): ChannelRow {
    const row = this.repo.get(uuid)
    if (!row) throw notFound('channel', uuid)
    return row
  }

  create(input: ChannelCreateInput): string {
    const uuid = randomUUID()
    const kind = checkKind(input.kind)
    this.assertNameFree(input.name, undefined)
    const values = this.checkSettings(kind, input.settings, undefined)
    const fields = this.checkRules(kind, input)
    const now = this.ctx.clock.now()
    const settings = this.storeSettings(kind, uuid, values)
    this.repo.insert({
      uuid,
      name: input.name,
      kind,
      settings,
      ...fields,
      created_at: now,
      updated_at: now,
    })
    this.ctx.events.emit({ type: 'resource', kind: 'channel', uuid, action: 'created' })
    return uuid
  }

  update(uuid: string, input: ChannelCreateInput): void {
    const existing = this.row(uuid)
    const kind = checkKind(input.kind)
    this.assertNameFree(input.name, uuid)
    // Secrets sent back redacted (or left out) are kept, unless the kind changed.
    const kept = existing.kind === kind ? this.storedReader(kind, uuid) : undefined
    const values = this.checkSettings(kind, input.settings, kept)
    const fields = this.checkRules(kind, input)
    if (existing.kind !== kind) forgetSecrets(owner(uuid), this.ctx.secrets)
    const settings = this.storeSettings(kind, uuid, values)
    this.repo.update(uuid, {
      name: input.name,
      kind,
      settings,
      ...fields,
      updated_at: this.ctx.clock.now(),
    })
    this.ctx.events.emit({ type: 'resource', kind: 'channel', uuid, action: 'updated' })
  }

  delete(uuid: string): void {
    this.row(uuid)
    this.repo.delete(uuid)
    forgetSecrets(owner(uuid), this.ctx.secrets)
    this.ctx.events.emit({ type: 'resource', kind: 'channel', uuid, action: 'deleted' })
  }

  /** The settings a sender needs, secrets included. Never serve this. */
  settingsFor(row: ChannelRow): EndpointValues {
    const kind = row.kind as ChannelKind
    const values = resolvedEndpoint(asPlugin(kind), owner(row.uuid), row.settings, this.ctx.secrets)
    for (const name of listSecrets(kind)) {
      if (typeof values[name] === 'string') values[name] = parseList(values[name])
    }
    return values
  }

  /** Sends a test notice through a saved channel and records it; ok false is an answer, not an error. */
  async test(uuid: string): Promise<Delivery> {
    const row = this.row(uuid)
    const notice = testNotice(row.name, this.linkBase(), this.ctx.clock.now())
    const at = this.ctx.clock.now()
    const outcome = await attemptDelivery(row.kind as ChannelKind, this.settingsFor(row), notice, {
      timeoutMs: TEST_TIMEOUT_MS,
    })
    const delivery = { channel_uuid: uuid, at, event: 'test', ok: outcome.ok ? 1 : 0, attempts: 1 }
    // The channel may have been deleted while the receiver answered.
    if (this.repo.get(uuid)) {
      this.repo.addDelivery({ ...delivery, detail: outcome.detail })
      this.ctx.events.emit({ type: 'resource', kind: 'channel', uuid, action: 'updated' })
    }
    this.ctx.log.info(
      `notify: test of channel "${row.name}" (${row.kind}) ${outcome.ok ? 'delivered' : 'failed'}: ${outcome.detail}`,
    )
    return { at: toIso(at), event: 'test', ok: outcome.ok, attempts: 1, detail: outcome.detail }
  }

  /** Sends a test notice through a channel not saved yet (checked as create checks it); nothing is kept. */
  async testUnsaved(input: ChannelCreateInput): Promise<Delivery> {
    const kind = checkKind(input.kind)
    const values = this.checkSettings(kind, input.settings, undefined)
    const at = this.ctx.clock.now()
    const notice = testNotice(input.name, this.linkBase(), at)
    const outcome = await attemptDelivery(kind, values, notice, { timeoutMs: TEST_TIMEOUT_MS })
    return { at: toIso(at), event: 'test', ok: outcome.ok, attempts: 1, detail: outcome.detail }
  }

  /** Registers a list secret's entries with the log redactor (see the constructor). */
  private maskListSecrets(kind: ChannelKind, uuid: string): void {
    if (!CHANNEL_KINDS.includes(kind)) return
    const read = storedSecretReader(owner(uuid), this.ctx.secrets)
    for (const name of listSecrets(kind)) {
      for (const entry of parseList(read(name))) {
        redactor.add(entry)
        const colon = entry.indexOf(':')
        if (colon > 0) redactor.add(entry.slice(colon + 1).trim())
      }
    }
  }

  private storedReader(kind: ChannelKind, uuid: string) {
    const read = storedSecretReader(owner(uuid), this.ctx.secrets)
    const lists = listSecrets(kind)
    // checkEndpoint takes the stored value as given: a list comes back as the list.
    return (field: string) =>
      (lists.has(field) ? parseList(read(field)) : read(field)) as string | undefined
  }

  /** The settings checked against the kind's fields, defaults filled in; 400 naming the setting. */
  private checkSettings(
    kind: ChannelKind,
    given: Record<string, unknown>,
    stored: ((field: string) => string | undefined) | undefined,
  ): EndpointValues {
    // A secret list read back is shown as one <redacted> entry by some forms: it keeps the stored one.
    const input = { ...given }
    for (const name of listSecrets(kind)) {
      const v = input[name]
      if (Array.isArray(v) && v.length === 1 && v[0] === REDACTED) input[name] = REDACTED
    }
    let values: EndpointValues
    try {
      values = checkEndpoint(asPlugin(kind), input, stored)
    } catch (err) {
      throw asSettingsError(err)
    }
    const bad = checkSettings(kind, values)
    if (bad) {
      const field = bad.field.startsWith('settings.') ? bad.field : `settings.${bad.field}`
      throw invalid(field, `${field} ${bad.message}`)
    }
    return values
  }

  /** Events, jobs, reminder and enabled, as stored; 400 naming the field. */
  private checkRules(kind: ChannelKind, input: ChannelCreateInput) {
    const events = [...new Set(input.events ?? defaultEvents(kind))]
    const jobs = input.jobs === undefined || input.jobs === null ? null : [...new Set(input.jobs)]
    for (const job of jobs ?? []) {
      if (!this.ctx.catalog.jobs.get(job)) {
        throw invalid(
          'jobs',
          `jobs: there is no job with uuid ${job}; list them with GET /v1/jobs (bulwark list jobs)`,
        )
      }
    }
    return {
      events: JSON.stringify(events),
      jobs: jobs === null ? null : JSON.stringify(jobs),
      reminder_hours: input.reminder_hours ?? DEFAULT_REMINDER_HOURS,
      enabled: input.enabled === false ? 0 : 1,
    }
  }

  private storeSettings(kind: ChannelKind, uuid: string, values: EndpointValues): string {
    const out = { ...values }
    for (const name of listSecrets(kind)) {
      const v = out[name]
      if (Array.isArray(v)) out[name] = v.length === 0 ? '' : JSON.stringify(v)
    }
    const stored = storeEndpoint(asPlugin(kind), owner(uuid), out, this.ctx.secrets)
    this.maskListSecrets(kind, uuid)
    return stored
  }

  private assertNameFree(name: string, self: string | undefined): void {
    const other = this.repo.byName(name)
    if (other && other.uuid !== self) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `a channel named "${name}" already exists (${other.uuid}); pick another name or edit that one`,
        'name',
      )
    }
  }

  private view(row: ChannelRow): Channel {
    const kind = row.kind as ChannelKind
    const settings = JSON.parse(
      redactedEndpoint(asPlugin(kind), owner(row.uuid), row.settings, this.ctx.secrets),
    ) as Record<string, unknown>
    const jobs = row.jobs === null ? null : (JSON.parse(row.jobs) as string[])
    const last = this.repo.lastDelivery(row.uuid)
    return {
      uuid: row.uuid,
      name: row.name,
      kind,
      settings,
      events: JSON.parse(row.events) as NotifyEvent[],
      // A deleted job drops out, so the channel can be saved back as read.
      jobs: jobs === null ? null : jobs.filter((j) => this.ctx.catalog.jobs.get(j) !== undefined),
      reminder_hours: row.reminder_hours,
      enabled: row.enabled === 1,
      last_delivery: last ? deliveryView(last) : null,
      created_at: toIso(row.created_at),
    }
  }
}

export function deliveryView(row: DeliveryRow): Delivery {
  return {
    at: toIso(row.at),
    event: row.event as Delivery['event'],
    ok: row.ok === 1,
    attempts: row.attempts,
    detail: row.detail,
  }
}
