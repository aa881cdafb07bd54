// Archives: what backups made. They can be annotated, restored (to their own
// target or another of the same plugin) and deleted ahead of expiry, which
// hands them to a purge task that removes the data from the store.
import {
  BulwarkError,
  ErrorCode,
  invalid,
  notFound,
  type Archive,
  type ArchivesFilter,
} from '../contract'
import type { ArchiveFilter, ArchiveListRow } from '../catalog/catalog'
import type { TaskRow } from '../catalog/rows'
import { toIso } from '../platform/clock'
import type { ServiceContext } from './context'
import type { PluginResourceService } from './plugin-resources'

export class ArchiveService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly targets: PluginResourceService<'target'>,
    private readonly stores: PluginResourceService<'store'>,
  ) {}

  list(query: ArchivesFilter = {}): Archive[] {
    const filter: ArchiveFilter = {
      target_uuid: query.target,
      store_uuid: query.store,
      job_uuid: query.job,
      status: query.status,
      after: query.after === undefined ? undefined : parseDay(query.after, 'after'),
      before: query.before === undefined ? undefined : parseDay(query.before, 'before'),
      limit: query.limit === undefined ? undefined : Number(query.limit),
    }
    return this.ctx.catalog.listArchives(filter).map((r) => this.view(r))
  }

  get(uuid: string): Archive {
    return this.view(this.row(uuid))
  }

  row(uuid: string): ArchiveListRow {
    const row = this.ctx.catalog.listArchives({ uuid })[0]
    if (!row) throw notFound('archive', uuid)
    return row
  }

  annotate(uuid: string, notes: string): void {
    this.row(uuid)
    this.ctx.catalog.archives.update(uuid, { notes })
    this.ctx.events.emit({ type: 'resource', kind: 'archive', uuid, action: 'updated' })
  }

  /** Expires the archive now and enqueues the purge that removes its data. */
  delete(uuid: string, owner: string): TaskRow | null {
    const archive = this.row(uuid)
    if (archive.status === 'purged' || archive.status === 'expired') return null
    return this.expire(archive, owner, this.ctx.clock.now())
  }

  /** Retention: expires every valid archive whose time has come, each with a purge task. */
  expireDue(): number {
    const now = this.ctx.clock.now()
    const due = this.ctx.catalog.listArchives({ status: 'valid', expired_by: now })
    for (const archive of due) this.expire(archive, 'system', archive.expires_at)
    if (due.length > 0) this.ctx.log.info(`${due.length} archive(s) expired; purging them`)
    return due.length
  }

  private expire(archive: ArchiveListRow, owner: string, at: number): TaskRow {
    this.ctx.catalog.archives.update(archive.uuid, { status: 'expired', expires_at: at })
    this.ctx.events.emit({
      type: 'resource',
      kind: 'archive',
      uuid: archive.uuid,
      action: 'updated',
    })
    return this.ctx.queue.enqueue({
      op: 'purge',
      owner,
      priority: 90,
      archive_uuid: archive.uuid,
      store_uuid: archive.store_uuid,
      target_uuid: archive.target_uuid,
    })
  }

  restore(uuid: string, targetUuid: string | undefined, owner: string): TaskRow {
    const archive = this.row(uuid)
    if (archive.status !== 'valid') {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `archive ${uuid} is ${archive.status} and cannot be restored`,
      )
    }
    const target = targetUuid ?? archive.target_uuid
    const row = this.ctx.catalog.targets.get(target)
    if (!row) {
      throw targetUuid
        ? invalid('target', `no target with uuid ${targetUuid}`)
        : invalid('target', `the archive's own target no longer exists; name another with "target"`)
    }
    if (archive.target_plugin && row.plugin !== archive.target_plugin) {
      throw invalid(
        'target',
        `target "${row.name}" uses the ${row.plugin} plugin, but this archive was made by ${archive.target_plugin}; choose a ${archive.target_plugin} target`,
      )
    }
    if (!this.ctx.catalog.stores.get(archive.store_uuid)) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `the store that holds archive ${uuid} has been deleted`,
      )
    }
    return this.ctx.queue.enqueue({
      op: 'restore',
      owner,
      priority: 10,
      archive_uuid: uuid,
      target_uuid: target,
      store_uuid: archive.store_uuid,
    })
  }

  /** Enqueues a verify: every chunk read back and authenticated; a damaged archive is marked invalid. */
  verify(uuid: string, owner: string): TaskRow {
    const archive = this.row(uuid)
    if (archive.status === 'purged') {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `archive ${uuid} is purged: its data is gone from the store, there is nothing to verify`,
      )
    }
    if (!this.ctx.catalog.stores.get(archive.store_uuid)) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `the store that holds archive ${uuid} has been deleted`,
      )
    }
    return this.ctx.queue.enqueue({
      op: 'verify',
      owner,
      priority: 60,
      archive_uuid: uuid,
      store_uuid: archive.store_uuid,
    })
  }

  private view(r: ArchiveListRow): Archive {
    return {
      uuid: r.uuid,
      job_uuid: r.job_uuid,
      store_key: r.store_key,
      taken_at: toIso(r.taken_at),
      expires_at: toIso(r.expires_at),
      notes: r.notes,
      status: r.status,
      size: r.size,
      store_uuid: r.store_uuid,
      store_name: r.store_name,
      store_plugin: r.store_plugin,
      store_endpoint:
        r.store_plugin === null || r.store_endpoint === null
          ? null
          : this.stores.redacted({
              uuid: r.store_uuid,
              plugin: r.store_plugin,
              endpoint: r.store_endpoint,
            }),
      target_uuid: r.target_uuid,
      target_name: r.target_name,
      target_plugin: r.target_plugin || r.target_current_plugin,
      target_endpoint:
        r.target_current_plugin === null || r.target_endpoint === null
          ? null
          : this.targets.redacted({
              uuid: r.target_uuid,
              plugin: r.target_current_plugin,
              endpoint: r.target_endpoint,
            }),
      format: r.format ?? 'plain',
      new_bytes: r.new_bytes ?? null,
      stored_bytes: r.stored_bytes ?? null,
      chunk_count: r.chunk_count ?? null,
    }
  }
}

/** YYYYMMDD → midnight of that day in the daemon's timezone. */
export function parseDay(value: string, field: string): number {
  const y = Number(value.slice(0, 4))
  const m = Number(value.slice(4, 6))
  const d = Number(value.slice(6, 8))
  const date = new Date(y, m - 1, d)
  if (date.getFullYear() !== y || date.getMonth() !== m - 1 || date.getDate() !== d) {
    throw invalid(field, `${field} must be a real date as YYYYMMDD, such as 20260131; got ${value}`)
  }
  return date.getTime()
}
