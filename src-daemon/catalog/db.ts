// Opens the catalog (SQLite in WAL mode) and brings its schema up to date.
// Migrations are the numbered .sql files beside this module, applied in order,
// each in its own transaction, and recorded in schema_migrations.
import Database from 'better-sqlite3'
import { makePrivate } from '../platform/files'

export type Db = Database.Database

const migrationFiles = import.meta.glob<string>('./migrations/*.sql', {
  query: '?raw',
  import: 'default',
  eager: true,
})

export interface Migration {
  version: number
  name: string
  sql: string
}

export function bundledMigrations(): Migration[] {
  return Object.entries(migrationFiles)
    .map(([path, sql]) => {
      const match = /\/(\d+)-([\w-]+)\.sql$/.exec(path)
      if (!match) throw new Error(`migration file ${path} is not named NNN-name.sql`)
      return { version: Number(match[1]), name: match[2] ?? '', sql }
    })
    .sort((a, b) => a.version - b.version)
}

/** The catalog's files: the database and its WAL and shared-memory files. */
const catalogFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`]

export function openCatalog(path: string, migrations = bundledMigrations()): Db {
  // 0600 even when they were made looser before (SQLite gives the -wal and
  // -shm files the database file's mode, so a new one is tightened at once).
  for (const file of catalogFiles(path)) makePrivate(file)
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  for (const file of catalogFiles(path)) makePrivate(file)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
  migrate(db, migrations)
  return db
}

export function migrate(db: Db, migrations: Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  const done = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((r) => (r as { version: number }).version),
  )
  const known = Math.max(0, ...migrations.map((m) => m.version))
  const newest = Math.max(0, ...done)
  if (newest > known) {
    throw new Error(
      `the catalog is at schema version ${newest}, newer than this Bulwark knows (${known}); ` +
        `upgrade Bulwark or use another data directory`,
    )
  }
  const applied: number[] = []
  // Table rebuilds must not cascade deletes: foreign keys are off while
  // migrating (it cannot change inside a transaction), and checked after.
  const fk = db.pragma('foreign_keys', { simple: true })
  db.pragma('foreign_keys = OFF')
  try {
    for (const m of migrations) {
      if (done.has(m.version)) continue
      db.transaction(() => {
        db.exec(m.sql)
        db.prepare(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        ).run(m.version, m.name, Date.now())
        const broken = db.pragma('foreign_key_check') as unknown[]
        if (broken.length > 0)
          throw new Error(`migration ${m.version} broke ${broken.length} foreign key(s)`)
      })()
      applied.push(m.version)
    }
  } finally {
    db.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`)
  }
  return applied
}
