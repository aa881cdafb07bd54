// Target `postgres`: one database, dumped by pg_dump in custom format and
// restored by pg_restore in a single transaction, so a failed restore changes
// nothing. The password travels only in PGPASSWORD, never in argv (where `ps`
// would show it), and is scrubbed from every message.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, spawnOutput, type ToolOptions } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { backupCluster, globMatcher, restoreCluster, type ClusterTools } from './cluster'
import { DEFAULT_CONNECT_TIMEOUT, explainPg, scrub, type PgTarget } from './explain'
import { describeWait, waitQuery, watchSilence, type DumpSession } from './waits'

/** The database restore connects to when it has to create the target database. */
const MAINTENANCE_DB = 'postgres'

interface Options {
  allDatabases: boolean
  exclude: string[]
}

function options(endpoint: Endpoint): Options {
  const exclude = Array.isArray(endpoint.exclude_databases)
    ? endpoint.exclude_databases.map(String)
    : []
  return { allDatabases: endpoint.all_databases === true, exclude }
}

function parse(endpoint: Endpoint): PgTarget {
  const { host = '127.0.0.1', port = 5432, user = 'postgres', password } = endpoint
  let { database } = endpoint
  if (options(endpoint).allDatabases && (database === undefined || database === ''))
    database = MAINTENANCE_DB
  if (typeof database !== 'string' || database === '') {
    throw new PluginError(
      'the endpoint names no database; set database, or all_databases for the whole server',
    )
  }
  if (typeof host !== 'string' || typeof user !== 'string' || !Number.isInteger(port)) {
    throw new PluginError('host and user must be text and port a whole number')
  }
  const pw = typeof password === 'string' ? password : ''
  const { connect_timeout: timeout = DEFAULT_CONNECT_TIMEOUT } = endpoint
  const connectTimeout =
    typeof timeout === 'string' && /^\d+$/.test(timeout) ? Number(timeout) : timeout
  if (
    typeof connectTimeout !== 'number' ||
    !Number.isInteger(connectTimeout) ||
    connectTimeout < 1
  ) {
    throw new PluginError('connect_timeout must be a whole number of seconds, at least 1')
  }
  return { host, port: port as number, user, database, password: pw, connectTimeout }
}

/** A conninfo naming just the database, so a name with '=' or spaces is never parsed as options. */
const dbname = (db: string) => `dbname='${db.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

function connArgs(t: PgTarget, database = t.database): string[] {
  return [
    `--host=${t.host}`,
    `--port=${t.port}`,
    `--username=${t.user}`,
    `--dbname=${dbname(database)}`,
    '--no-password', // never prompt: the daemon has no terminal
  ]
}

function toolOptions(tool: string, t: PgTarget, database = t.database): ToolOptions {
  return {
    env: {
      PGPASSWORD: t.password || undefined, // undefined drops one inherited from the daemon
      // Also bounds a server that accepts the connection and never answers.
      PGCONNECT_TIMEOUT: String(t.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT),
      PGAPPNAME: 'bulwark',
      LC_MESSAGES: 'C', // explainPg matches English messages
      LC_ALL: undefined,
      LANGUAGE: undefined,
    },
    explain: (stderr, code) => explainPg(tool, stderr, code, t, database),
  }
}

/** psql running one statement; resolves to its unaligned, tuples-only output. */
function psql(t: PgTarget, sql: string, ctx: PluginContext, database = t.database) {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', ...connArgs(t, database)]
  return runTool('psql', [...args, '-c', sql], ctx, toolOptions('psql', t, database))
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`

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

/** What ensureDatabase did: nothing (it existed), or created it (withdraw: forget the undo note). */
type Ensured = { created: false } | { created: true; withdraw?: () => void }

/**
 * A context whose tool output is held back: `replay` passes it on to the
 * task log (for a failure worth showing), `drop` forgets it (for an answer
 * that was expected, such as a database that does not exist yet).
 */
function holding(ctx: PluginContext): { ctx: PluginContext; replay(): void } {
  const held: string[] = []
  return {
    ctx: { signal: ctx.signal, log: (line) => void held.push(line) },
    replay: () => held.splice(0).forEach((line) => ctx.log(line)),
  }
}

/**
 * Makes sure the database exists, creating it (owned by the endpoint's user)
 * through the maintenance database when it does not. Whether it exists is
 * asked by connecting to it (which needs no more than the restore itself),
 * without passing psql's "database ... does not exist" to the task log: that
 * is the expected answer for a new database, not an error. The undo note goes
 * to the daemon (ctx.created) before CREATE DATABASE, so even a crash right
 * after leaves a trace; a database that already existed gets none.
 */
async function ensureDatabase(t: PgTarget, ctx: PluginContext): Promise<Ensured> {
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
async function dropCreated(t: PgTarget, withdraw: (() => void) | undefined, ctx: PluginContext) {
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
async function undoRestore(
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
