// Which chunks a store's vault holds, as far as this daemon knows: a cache
// of the store that must never claim a chunk the store lacks. A chunk is
// added only after the store confirmed the whole object, forgotten before it
// is deleted and when a reader finds it missing or damaged; a miss is checked
// with the store itself before uploading. The epoch ties the index to the
// store's GC history (see vault/archives/sessions.ts).
import type { Db } from './db'

export class CatalogChunkIndex {
  private readonly hasStmt
  private readonly addStmt
  private readonly noticeStmt
  private readonly sizeStmt

  constructor(
    private readonly db: Db,
    private readonly storeUuid: string,
    private readonly now: () => number,
  ) {
    this.hasStmt = db.prepare(
      'SELECT 1 FROM vault_chunks WHERE store_uuid = ? AND id = ? AND checked = 1',
    )
    this.addStmt = db.prepare(
      'INSERT INTO vault_chunks (store_uuid, id, stored_size, created_at, checked) VALUES (?, ?, ?, ?, 1) ON CONFLICT (store_uuid, id) DO UPDATE SET stored_size = excluded.stored_size, checked = 1',
    )
    this.noticeStmt = db.prepare(
      'INSERT OR IGNORE INTO vault_chunks (store_uuid, id, stored_size, created_at, checked) VALUES (?, ?, ?, ?, 0)',
    )
    this.sizeStmt = db.prepare(
      'SELECT stored_size FROM vault_chunks WHERE store_uuid = ? AND id = ?',
    )
  }

  has(id: string): boolean {
    return this.hasStmt.get(this.storeUuid, id) !== undefined
  }

  /** A chunk the store confirmed whole (a put that completed, an object that opened). */
  add(id: string, storedSize: number): void {
    this.addStmt.run(this.storeUuid, id, storedSize, this.now())
  }

  /** A chunk seen in a listing: counted, and its GC grace starts, but writers still check it. */
  notice(id: string, storedSize: number): void {
    this.noticeStmt.run(this.storeUuid, id, storedSize, this.now())
  }

  /** notice() of many chunks in one transaction (a GC's listing of a shard). */
  noticeAll(chunks: readonly { id: string; size: number }[]): void {
    if (chunks.length === 0) return
    const now = this.now()
    this.db.transaction(() => {
      for (const c of chunks) this.noticeStmt.run(this.storeUuid, c.id, c.size, now)
    })()
  }

  storedSize(id: string): number | undefined {
    return (this.sizeStmt.get(this.storeUuid, id) as { stored_size: number } | undefined)
      ?.stored_size
  }

  forget(ids: string[]): void {
    const del = this.db.prepare('DELETE FROM vault_chunks WHERE store_uuid = ? AND id = ?')
    this.db.transaction(() => {
      for (const id of ids) del.run(this.storeUuid, id)
    })()
  }

  /**
   * Chunks first seen before `before` (GC candidates, once unreferenced);
   * with `prefix` (a shard's hex digits), only the ids that start with it, so
   * a GC holds one shard's candidates at a time, not the whole index's.
   */
  seenBefore(before: number, prefix = ''): string[] {
    // Ids are lowercase hex: every id that starts with prefix sorts before prefix + 'g'.
    return (
      this.db
        .prepare(
          'SELECT id FROM vault_chunks WHERE store_uuid = ? AND created_at < ? AND id >= ? AND id < ?',
        )
        .all(this.storeUuid, before, prefix, prefix + 'g') as { id: string }[]
    ).map((r) => r.id)
  }

  /**
   * Makes the index agree with a listing of the store's chunks: forgets the
   * ones the store no longer holds, or holds at another size. Chunks it did
   * not know are noticed, not trusted (an object listed is not yet an object
   * that opens): a writer checks them when it needs them.
   */
  sync(present: ReadonlyMap<string, number>): { forgotten: number; kept: number } {
    const known = this.db
      .prepare('SELECT id, stored_size FROM vault_chunks WHERE store_uuid = ?')
      .all(this.storeUuid) as { id: string; stored_size: number }[]
    const gone = known.filter((r) => present.get(r.id) !== r.stored_size).map((r) => r.id)
    this.db.transaction(() => {
      this.forget(gone)
      for (const [id, size] of present) this.notice(id, size)
    })()
    return { forgotten: gone.length, kept: known.length - gone.length }
  }

  /** The store's GC epoch this index was last made to match (null: never). */
  epoch(): string | null {
    const row = this.db
      .prepare('SELECT epoch FROM vault_index_epochs WHERE store_uuid = ?')
      .get(this.storeUuid) as { epoch: string } | undefined
    return row?.epoch ?? null
  }

  setEpoch(epoch: string): void {
    this.db
      .prepare(
        'INSERT INTO vault_index_epochs (store_uuid, epoch, synced_at) VALUES (?, ?, ?) ON CONFLICT (store_uuid) DO UPDATE SET epoch = excluded.epoch, synced_at = excluded.synced_at',
      )
      .run(this.storeUuid, epoch, this.now())
  }

  /** Forgets the epoch, so the next writer lists the store before trusting the index. */
  clearEpoch(): void {
    this.db.prepare('DELETE FROM vault_index_epochs WHERE store_uuid = ?').run(this.storeUuid)
  }

  totalStored(): number {
    return (
      this.db
        .prepare('SELECT COALESCE(SUM(stored_size), 0) AS n FROM vault_chunks WHERE store_uuid = ?')
        .get(this.storeUuid) as { n: number }
    ).n
  }
}
