// Target `postgres`: one database, dumped by pg_dump in custom format and
// restored by pg_restore in a single transaction, so a failed restore changes
// nothing. The password travels only in PGPASSWORD, never in argv (where `ps`
// would show it), and is scrubbed from every message. The connection is in
// connection.ts, creating and dropping the restore's database in databases.ts.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { spawnInput, spawnOutput } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { backupCluster, globMatcher, restoreCluster, type ClusterTools } from './cluster'
import {
  connArgs,
  holding,
  MAINTENANCE_DB,
  options,
  parse,
  psql,
  toolOptions,
  type Options,
} from './connection'
import { dropCreated, ensureDatabase, undoRestore, type Ensured } from './databases'
import { scrub, type PgTarget } from './explain'
import { describeWait, waitQuery, watchSilence, type DumpSession } from './waits'

function clusterTools(t: PgTarget, opts: Options): ClusterTools {
  const excluded = globMatcher(opts.exclude)
  return {
    async databases(ctx) {
      const out = await psql(
        t,
        'select datname from pg_database where datallowconn and not datistemplate order by datname',
        ctx,
      )
      return out
        .split('\n')
        .map((l) => l.trim())
        .filter((name) => name !== '' && !excluded(name))
    },
    globalsArgs: () => ['--globals-only', ...connArgs(t)],
    dumpArgs: (db) => ['--format=custom', '-Z0', ...connArgs(t, db)],
    dump: (db, ctx) => dump({ ...t, database: db }, ctx),
    toolOptions: (tool, db) => toolOptions(tool, t, db),
    restoreDatabase: (db, data, ctx) => restoreOne({ ...t, database: db }, data, ctx, true),
    async runSql(sql, ctx) {
      const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...connArgs(t, MAINTENANCE_DB)]
      await spawnInput(
        'psql',
        args,
        Readable.from([Buffer.from(sql)]),
        ctx,
        toolOptions('psql', t, MAINTENANCE_DB),
      )
    },
  }
}

/**
 * What the dump's session (application_name `app`) is waiting for, in words
 * for the task log (see waits.ts); asked with psql, whose own output stays
 * out of the log.
 */
async function dumpWait(
  t: PgTarget,
  app: string,
  sent: boolean,
  ctx: PluginContext,
): Promise<string | undefined> {
  let out: string
  try {
    out = await psql(t, waitQuery(app), holding(ctx).ctx)
  } catch (err) {
    if (ctx.signal.aborted || sent) return undefined
    return ` (could not ask the server why: ${scrub(err instanceof Error ? err.message : String(err), t.password)})`
  }
  const text = out.trim()
  return describeWait(text ? (JSON.parse(text) as DumpSession) : null, sent)
}

/**
 * pg_dump of t.database in custom format, under an application_name of its
 * own so that, while it sends nothing (waiting for a lock, typically), the
 * task log can say on what.
 */
function dump(t: PgTarget, ctx: PluginContext): Readable {
  const app = `bulwark pg_dump ${randomBytes(6).toString('hex')}`
  const opts = toolOptions('pg_dump', t)
  // -Z0: the vault compresses and encrypts; compressing here too only costs CPU.
  const out = spawnOutput('pg_dump', ['--format=custom', '-Z0', ...connArgs(t)], ctx, {
    ...opts,
    env: { ...opts.env, PGAPPNAME: app },
  })
  return watchSilence(out, ctx, {
    tool: 'pg_dump',
    explain: (sent) => dumpWait(t, app, sent, ctx),
  })
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const t = parse(endpoint)
  const opts = options(endpoint)
  if (opts.allDatabases) return backupCluster(t, clusterTools(t, opts), ctx)
  return dump(t, ctx)
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  const t = parse(endpoint)
  const opts = options(endpoint)
  if (opts.allDatabases) return restoreCluster(data, clusterTools(t, opts), ctx)
  return restoreOne(t, data, ctx)
}

/**
 * Restores one database. `keep`: once restored, a database it created is no
 * longer the restore's to undo (a whole-server restore that fails later keeps
 * the databases it completed).
 */
async function restoreOne(
  t: PgTarget,
  data: Readable,
  ctx: PluginContext,
  keep = false,
): Promise<void> {
  let ensured: Ensured
  try {
    ensured = await ensureDatabase(t, ctx)
  } catch (err) {
    data.destroy()
    throw err
  }
  // --clean --if-exists replaces the objects the archive holds (and only those);
  // --single-transaction with --exit-on-error rolls all of it back on any error.
  const args = ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error']
  try {
    await spawnInput(
      'pg_restore',
      [...args, ...connArgs(t)],
      data,
      ctx,
      toolOptions('pg_restore', t),
    )
  } catch (err) {
    if (ensured.created) await dropCreated(t, ensured.withdraw, ctx)
    throw err
  }
  if (keep && ensured.created) ensured.withdraw?.()
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024)
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const t = parse(endpoint)
  // Also finds tables and sequences the user cannot read: pg_dump would fail on them.
  const sql = `select current_setting('server_version'), current_database(),
      pg_database_size(current_database()), count(c.oid), min(quote_ident(n.nspname) || '.' || quote_ident(c.relname))
    from (select 1) one
    left join pg_class c on c.relkind in ('r', 'p', 'S', 'm')
      and not has_table_privilege(c.oid, 'select')
      and c.relnamespace not in (select oid from pg_namespace
        where nspname in ('pg_catalog', 'information_schema') or nspname like 'pg_toast%')
    left join pg_namespace n on n.oid = c.relnamespace`
  let out: string
  try {
    out = await psql(t, sql, ctx)
  } catch (err) {
    if (err instanceof PluginAbortedError) throw err
    throw err instanceof PluginError ? err : new PluginError(scrub(String(err), t.password))
  }
  const [version = '?', db = t.database, size = '0', unreadable = '0', example] = out
    .trim()
    .split('|')
  if (Number(unreadable) > 0) {
    throw new PluginError(
      `user ${t.user} cannot read ${unreadable} table(s) or sequence(s) in database ${db}, e.g. ${example}; grant SELECT on them or use a role that can read everything`,
    )
  }
  const major = version.split(' ')[0]
  return `connected to PostgreSQL ${major}, database ${db} (${megabytes(Number(size))})`
}

export default defineTarget({ backup, restore, test, undoRestore })
