// Retention policies: how long archives are kept. Every archive has one. A
// policy also keeps the newest `keep_min` valid archives of each job past
// their expiry (see ArchiveService.expireDue).
import { randomUUID } from 'node:crypto'
import { DEFAULT_KEEP_MIN, notFound, type Retention, type RetentionInput } from '../contract'
import type { RetentionRow } from '../catalog/rows'
import type { ServiceContext } from './context'
import { assertUnused } from './usage'

export class RetentionService {
  constructor(private readonly ctx: ServiceContext) {}

  list(filter: { unused?: boolean } = {}): Retention[] {
    return this.ctx.catalog.listUsage<RetentionRow>('retention', filter).map(view)
  }

  get(uuid: string): Retention {
    return view(this.row(uuid))
  }

  row(uuid: string): RetentionRow {
    const row = this.ctx.catalog.retention.get(uuid)
    if (!row) throw notFound('retention policy', uuid)
    return row
  }

  create(input: RetentionInput): string {
    const uuid = randomUUID()
    const now = this.ctx.clock.now()
    this.ctx.catalog.retention.insert({
      uuid,
      name: input.name,
      summary: input.summary ?? '',
      expiry: input.expires,
      keep_min: input.keep_min ?? DEFAULT_KEEP_MIN,
      created_at: now,
      updated_at: now,
    })
    this.ctx.events.emit({ type: 'resource', kind: 'retention', uuid, action: 'created' })
    return uuid
  }

  /** A PUT without keep_min keeps the policy's own. */
  update(uuid: string, input: RetentionInput): void {
    const existing = this.row(uuid)
    this.ctx.catalog.retention.update(uuid, {
      name: input.name,
      summary: input.summary ?? '',
      expiry: input.expires,
      keep_min: input.keep_min ?? existing.keep_min,
      updated_at: this.ctx.clock.now(),
    })
    this.ctx.events.emit({ type: 'resource', kind: 'retention', uuid, action: 'updated' })
  }

  delete(uuid: string): void {
    this.row(uuid)
    this.ctx.catalog.transaction(() => {
      assertUnused(this.ctx.catalog, 'retention', 'retention policy', uuid)
      this.ctx.catalog.retention.delete(uuid)
    })
    this.ctx.events.emit({ type: 'resource', kind: 'retention', uuid, action: 'deleted' })
  }
}

const view = (r: RetentionRow): Retention => ({
  uuid: r.uuid,
  name: r.name,
  summary: r.summary,
  expires: r.expiry,
  keep_min: r.keep_min,
})
