// Plain row access for one table keyed by uuid. Column names come from code,
// never from requests, so building SQL from them is safe.
import type { Db } from './db'

type Key<Row> = Extract<keyof Row, string>

export class Table<Row extends { uuid: string }> {
  constructor(
    private readonly db: Db,
    readonly name: string,
  ) {}

  get(uuid: string): Row | undefined {
    return this.db.prepare(`SELECT * FROM ${this.name} WHERE uuid = ?`).get(uuid) as Row | undefined
  }

  insert(row: Row): void {
    const cols = Object.keys(row)
    this.db
      .prepare(
        `INSERT INTO ${this.name} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`,
      )
      .run(row)
  }

  update(uuid: string, patch: Partial<Row>): boolean {
    const cols = Object.keys(patch).filter((c) => c !== 'uuid')
    if (cols.length === 0) return this.get(uuid) !== undefined
    const sets = cols.map((c) => `${c} = @${c}`).join(', ')
    const res = this.db
      .prepare(`UPDATE ${this.name} SET ${sets} WHERE uuid = @uuid`)
      .run({ ...patch, uuid })
    return res.changes > 0
  }

  delete(uuid: string): boolean {
    return this.db.prepare(`DELETE FROM ${this.name} WHERE uuid = ?`).run(uuid).changes > 0
  }

  /** Rows matching every given column = value, in the given order. */
  where(match: Partial<Record<Key<Row>, unknown>>, orderBy = 'name COLLATE NOCASE, uuid'): Row[] {
    const cols = Object.keys(match).filter((c) => match[c as Key<Row>] !== undefined)
    const clause = cols.length ? 'WHERE ' + cols.map((c) => `${c} = @${c}`).join(' AND ') : ''
    return this.db
      .prepare(`SELECT * FROM ${this.name} ${clause} ORDER BY ${orderBy}`)
      .all(match) as Row[]
  }

  count(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${this.name}`).get() as { n: number }).n
  }
}
