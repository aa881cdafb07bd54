// Which chunks a store's vault holds, as far as this daemon knows: a cache
// of the store (a miss is confirmed with the store itself before uploading).
import type { Db } from './db'

export class CatalogChunkIndex {
  private readonly hasStmt
  private readonly addStmt
  private readonly sizeStmt

  constructor(
    private readonly db: Db,
    private readonly storeUuid: string,
    private readonly now: () => number,
  ) {
    this.hasStmt = db.prepare('SELECT 1 FROM vault_chunks WHERE store_uuid = ? AND id = ?')
    this.addStmt = db.prepare(
      'INSERT OR IGNORE INTO vault_chunks (store_uuid, id, stored_size, created_at) VALUES (?, ?, ?, ?)',
    )
    this.sizeStmt = db.prepare(
      'SELECT stored_size FROM vault_chunks WHERE store_uuid = ? AND id = ?',
    )
  }

  has(id: string): boolean {
    return this.hasStmt.get(this.storeUuid, id) !== undefined
  }

  add(id: string, storedSize: number): void {
    this.addStmt.run(this.storeUuid, id, storedSize, this.now())
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

  /** Chunks first seen before `before` (GC candidates, once unreferenced). */
  seenBefore(before: number): string[] {
    return (
      this.db
        .prepare('SELECT id FROM vault_chunks WHERE store_uuid = ? AND created_at < ?')
        .all(this.storeUuid, before) as { id: string }[]
    ).map((r) => r.id)
  }

  /**
   * Makes the index match a listing of the store's chunks: adds the ones it
   * lacked (their GC grace starts now) and forgets the ones the store no
   * longer holds, so a writer never skips a chunk that is not there.
   */
  sync(present: ReadonlyMap<string, number>): { added: number; forgotten: number } {
    const known = this.db
      .prepare('SELECT id FROM vault_chunks WHERE store_uuid = ?')
      .all(this.storeUuid) as { id: string }[]
    const gone = known.map((r) => r.id).filter((id) => !present.has(id))
    const before = known.length - gone.length
    this.db.transaction(() => {
      this.forget(gone)
      for (const [id, size] of present) this.add(id, size)
    })()
    return { added: present.size - before, forgotten: gone.length }
  }

  totalStored(): number {
    return (
      this.db
        .prepare('SELECT COALESCE(SUM(stored_size), 0) AS n FROM vault_chunks WHERE store_uuid = ?')
        .get(this.storeUuid) as { n: number }
    ).n
  }
}
