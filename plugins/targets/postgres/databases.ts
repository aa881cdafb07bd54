// The database a restore goes into: created when it does not exist (with an
// undo note to the daemon first), dropped again when the restore into it
// fails, and dropped by the daemon's undo of a restore that was interrupted.
import { PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext } from '../../sdk/types'
import { holding, ident, MAINTENANCE_DB, parse, psql } from './connection'
import { scrub, type PgTarget } from './explain'

/** What ensureDatabase did: nothing (it existed), or created it (withdraw: forget the undo note). */
export type Ensured = { created: false } | { created: true; withdraw?: () => void }

/**
 * Makes sure the database exists, creating it (owned by the endpoint's user)
 * through the maintenance database when it does not. Whether it exists is
 * asked by connecting to it (which needs no more than the restore itself),
 * without passing psql's "database ... does not exist" to the task log: that
 * is the expected answer for a new database, not an error. The undo note goes
 * to the daemon (ctx.created) before CREATE DATABASE, so even a crash right
 * after leaves a trace; a database that already existed gets none.
 */
export async function ensureDatabase(t: PgTarget, ctx: PluginContext): Promise<Ensured> {
  const probe = holding(ctx)
  try {
    await psql(t, 'select 1', probe.ctx)
    probe.replay()
    return { created: false }
  } catch (err) {
    if (!(err instanceof PluginError) || !err.message.startsWith(`database ${t.database} does`)) {
      probe.replay()
      throw err
    }
  }
  const withdraw = ctx.created?.({ database: t.database })
  try {
    await psql(t, `CREATE DATABASE ${ident(t.database)}`, ctx, MAINTENANCE_DB)
  } catch (err) {
    // Refused by the server: nothing was created. Created meanwhile by someone else: theirs.
    if (err instanceof PluginError) withdraw?.()
    if (err instanceof PluginError && /already exists/.test(err.message)) return { created: false }
    throw err
  }
  ctx.log(`created database ${t.database} on ${t.host}:${t.port}`)
  return { created: true, withdraw }
}

/**
 * Drops the database if it exists, whoever is connected to it (WITH (FORCE)
 * from PostgreSQL 13; before that, their sessions are ended first). Resolves
 * to whether there was one to drop.
 */
async function dropDatabase(t: PgTarget, database: string, ctx: PluginContext): Promise<boolean> {
  const name = `'${database.replace(/'/g, "''")}'`
  const found = await psql(
    t,
    `select current_setting('server_version_num')::int, count(*) from pg_database where datname = ${name}`,
    ctx,
    MAINTENANCE_DB,
  )
  const [version = '0', count = '0'] = found.trim().split('|')
  if (count === '0') return false
  if (Number(version) >= 130000) {
    await psql(t, `DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`, ctx, MAINTENANCE_DB)
  } else {
    await psql(
      t,
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`,
      ctx,
      MAINTENANCE_DB,
    )
    await psql(t, `DROP DATABASE IF EXISTS ${ident(database)}`, ctx, MAINTENANCE_DB)
  }
  return true
}

/** The restore's own cleanup of the database it created; the daemon's undo does it otherwise. */
export async function dropCreated(
  t: PgTarget,
  withdraw: (() => void) | undefined,
  ctx: PluginContext,
) {
  // The task's signal may have fired already; this cleanup gets its own, with a time limit.
  const cleanup: PluginContext = { signal: AbortSignal.timeout(30_000), log: ctx.log }
  try {
    await dropDatabase(t, t.database, cleanup)
    withdraw?.() // undone: nothing left for the daemon to undo
    ctx.log(`dropped database ${t.database} again, as the restore into it failed`)
  } catch (err) {
    ctx.log(
      `could not drop database ${t.database} after the failed restore: ${scrub(String(err), t.password)}`,
    )
  }
}

/** Drops a database a failed or interrupted restore created (the note of ensureDatabase). */
export async function undoRestore(
  endpoint: Endpoint,
  note: Record<string, unknown>,
  ctx: PluginContext,
): Promise<void> {
  if (typeof note.database !== 'string' || note.database === '') {
    throw new PluginError('the restore left a note without a database name; nothing to undo')
  }
  const t = { ...parse({ ...endpoint, database: note.database }), database: note.database }
  if (await dropDatabase(t, note.database, ctx)) {
    ctx.log(
      `dropped database ${note.database} on ${t.host}:${t.port}, which the failed restore had created`,
    )
  } else {
    ctx.log(
      `database ${note.database} on ${t.host}:${t.port}, created by the restore, is already gone`,
    )
  }
}
