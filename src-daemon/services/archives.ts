// Archives: what backups made. They can be annotated, restored (to their own
// target or another of the same plugin), downloaded (the bytes a restore
// would hand the target plugin) and deleted ahead of expiry, which hands them
// to a purge task that removes the data from the store.
import type { Readable } from 'node:stream'
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
import type { PluginContext } from '../../plugins/sdk/types'
import { encodeParams } from '../tasks/task-params'
import { archiveStem, ExactSize, explained } from './archive-download'
import { archiveViewer } from './archive-view'
import { checkPaths, restoreParams, type TreeRestoreInput } from './archive-restore'
import type { ServiceContext } from './context'
import { decodeCursor, encodeCursor, pageOf, type Page } from './paging'
import type { PluginResourceService } from './plugin-resources'
import type { VaultService } from './vault'

/** An archive on its way out: its plaintext stream and what to call it. */
export interface ArchiveDownload {
  /** The bytes the target plugin's restore would get. Destroy it to stop reading the store. */
  stream: Readable
  /** `<target name>-<YYYYmmdd-HHMMSS, UTC>.<extension>`, safe as a file name. */
  filename: string
  /** How many bytes the stream holds, when the catalog knows. */
  size: number | null
}

export class ArchiveService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly targets: PluginResourceService<'target'>,
    private readonly stores: PluginResourceService<'store'>,
    private readonly vault: VaultService,
  ) {}

  list(query: ArchivesFilter = {}): Archive[] {
    return this.page(query).items
  }

  /** A page of the list (newest first); without a limit, all of it from the cursor on. */
  page(query: ArchivesFilter = {}): Page<Archive> {
    const filter: ArchiveFilter = {
      target_uuid: query.target,
      store_uuid: query.store,
      job_uuid: query.job,
      status: query.status,
      after: query.after === undefined ? undefined : parseDay(query.after, 'after'),
      before: query.before === undefined ? undefined : parseDay(query.before, 'before'),
    }
    const limit = query.limit === undefined ? null : Number(query.limit)
    const [takenAt, uuid] =
      query.cursor === undefined ? [] : decodeCursor('archives', query.cursor, 'ns')
    const rows = this.ctx.catalog.listArchives({
      ...filter,
      limit: limit === null ? undefined : limit + 1,
      page_after:
        query.cursor === undefined
          ? undefined
          : { taken_at: takenAt as number, uuid: uuid as string },
    })
    return pageOf(
      rows,
      limit,
      this.ctx.catalog.countArchives(filter),
      archiveViewer(this.targets, this.stores),
      (r) => encodeCursor('archives', [r.taken_at, r.uuid]),
    )
  }

  get(uuid: string): Archive {
    return archiveViewer(this.targets, this.stores)(this.row(uuid))
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
    if (archive.status === 'purged') return null
    // An expired archive is being purged, or its purge failed (the store did
    // not answer): deleting it again purges it again (a purge is idempotent).
    const at = archive.status === 'expired' ? archive.expires_at : this.ctx.clock.now()
    return this.expire(archive, owner, at)
  }

  /**
   * Retention: expires every valid archive whose time has come, except the
   * newest `keep_min` valid archives of each job (its retention policy's):
   * those stay however old, so a job whose backups keep failing still has its
   * last good archive. A delete by hand is not held back. One purge task per
   * store removes what expired there in one pass (a year of hourly archives
   * expiring at once is one task per store, not thousands).
   */
  expireDue(): number {
    const now = this.ctx.clock.now()
    const due = this.ctx.catalog.listArchives({ status: 'valid', expired_by: now, skip_kept: true })
    if (due.length === 0) return 0
    const byStore = new Map<string, ArchiveListRow[]>()
    this.ctx.catalog.transaction(() => {
      for (const archive of due) {
        this.markExpired(archive.uuid, archive.expires_at)
        let list = byStore.get(archive.store_uuid)
        if (!list) byStore.set(archive.store_uuid, (list = []))
        list.push(archive)
      }
    })
    for (const [store, archives] of byStore) {
      this.ctx.queue.enqueue({
        op: 'purge',
        owner: 'system',
        priority: 90,
        store_uuid: store,
        ...(archives.length === 1
          ? { archive_uuid: archives[0]!.uuid, target_uuid: archives[0]!.target_uuid }
          : { params: encodeParams({ archives: archives.map((a) => a.uuid) }) }),
      })
    }
    this.ctx.log.info(`${due.length} archive(s) expired; purging them`)
    return due.length
  }

  private markExpired(uuid: string, at: number): void {
    this.ctx.catalog.archives.update(uuid, { status: 'expired', expires_at: at })
    this.ctx.events.emit({ type: 'resource', kind: 'archive', uuid, action: 'updated' })
  }

  private expire(archive: ArchiveListRow, owner: string, at: number): TaskRow {
    this.markExpired(archive.uuid, at)
    return this.ctx.queue.enqueue({
      op: 'purge',
      owner,
      priority: 90,
      archive_uuid: archive.uuid,
      store_uuid: archive.store_uuid,
      target_uuid: archive.target_uuid,
    })
  }

  /**
   * Enqueues a restore. A tree archive may be restored in part (`paths`, each
   * checked against its tree now), into another directory (`to`), with a
   * conflict rule; other archives take none of those.
   */
  async restore(
    uuid: string,
    targetUuid: string | undefined,
    owner: string,
    tree: TreeRestoreInput = {},
  ): Promise<TaskRow> {
    const archive = this.row(uuid)
    const params = restoreParams(archive, tree)
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
    if (params.paths) await checkPaths(this.vault, this.ctx.log, archive, params.paths)
    return this.ctx.queue.enqueue({
      op: 'restore',
      owner,
      priority: 10,
      archive_uuid: uuid,
      target_uuid: target,
      store_uuid: archive.store_uuid,
      params: encodeParams(params),
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

  /** The archive, if it can be downloaded now: valid, and its store still there (else 404 / 409). */
  downloadable(uuid: string): ArchiveListRow {
    const archive = this.row(uuid)
    if (archive.status !== 'valid') {
      const why = archive.status === 'invalid' ? ' (a verify found it damaged)' : ''
      throw new BulwarkError(
        ErrorCode.Conflict,
        `archive ${uuid} is ${archive.status}${why} and cannot be downloaded`,
      )
    }
    if (!this.ctx.catalog.stores.get(archive.store_uuid)) {
      throw new BulwarkError(
        ErrorCode.Conflict,
        `the store that holds archive ${uuid} has been deleted`,
      )
    }
    return archive
  }

  /**
   * Opens the archive for download: its manifest (or blob header) is read and
   * authenticated before this resolves, so a missing or damaged archive, or a
   * vault that does not open, is an error here. Damage found later (a chunk)
   * errors the stream, as does a byte count that differs from the catalog's:
   * a download never ends short without an error. Aborting `signal` stops it.
   */
  async download(uuid: string, signal: AbortSignal): Promise<ArchiveDownload> {
    const archive = this.downloadable(uuid)
    const what = `download of archive ${archive.uuid}`
    const ctx: PluginContext = { signal, log: (line) => this.ctx.log.info(`${what}: ${line}`) }
    let source: Readable
    try {
      const store = await this.vault.handle(archive.store_uuid)
      source = await this.vault.archives.read(store, archive, ctx)
    } catch (err) {
      throw this.vault.failure(err)
    }
    const checked = new ExactSize(archive.uuid, archive.size)
    let sourceFailed = false
    source.on('error', (err) => {
      sourceFailed = true
      if (signal.aborted || checked.destroyed) {
        this.ctx.log.info(`${what} stopped: the client went away`)
      } else {
        this.ctx.log.warn(`${what} failed: ${err.message}`)
      }
      checked.destroy(explained(this.vault.failure(err)))
    })
    checked.on('error', (err) => {
      if (!sourceFailed) this.ctx.log.warn(`${what} failed: ${err.message}`)
    })
    checked.on('close', () => source.destroy())
    checked.on('end', () => this.ctx.log.info(`${what}: ${checked.bytes} bytes sent`))
    source.pipe(checked)
    return {
      stream: checked,
      filename: this.filename(archive),
      size: archive.size,
    }
  }

  private filename(a: ArchiveListRow): string {
    const plugin = a.target_plugin || a.target_current_plugin || ''
    const ext = this.ctx.registry.find('target', plugin)?.extension ?? 'bin'
    return `${archiveStem(a, plugin || 'archive')}.${ext}`
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
