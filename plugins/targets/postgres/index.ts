// Target `postgres`: one database, dumped by pg_dump in custom format and
// restored by pg_restore in a single transaction, so a failed restore changes
// nothing. The password travels only in PGPASSWORD, never in argv (where `ps`
// would show it), and is scrubbed from every message.
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, spawnOutput, type ToolOptions } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { backupCluster, globMatcher, restoreCluster, type ClusterTools } from './cluster'
import { explainPg, scrub, type PgTarget } from './explain'

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
  return { host, port: port as number, user, database, password: pw }
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
      PGCONNECT_TIMEOUT: '10',
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
    toolOptions: (tool, db) => toolOptions(tool, t, db),
    restoreDatabase: (db, data, ctx) => restoreOne({ ...t, database: db }, data, ctx),
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

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const t = parse(endpoint)
  const opts = options(endpoint)
  if (opts.allDatabases) return backupCluster(t, clusterTools(t, opts), ctx)
  // -Z0: the vault compresses and encrypts; compressing here too only costs CPU.
  const args = ['--format=custom', '-Z0', ...connArgs(t)]
  return spawnOutput('pg_dump', args, ctx, toolOptions('pg_dump', t))
}

/**
 * Makes sure the database exists, creating it (owned by the endpoint's user)
 * through the maintenance database when it does not. Resolves to whether it
 * was created, so a failed restore can drop it again.
 */
async function ensureDatabase(t: PgTarget, ctx: PluginContext): Promise<boolean> {
  try {
    await psql(t, 'select 1', ctx)
    return false
  } catch (err) {
    if (!(err instanceof PluginError) || !err.message.startsWith(`database ${t.database} does`)) {
      throw err
    }
  }
  await psql(t, `CREATE DATABASE ${ident(t.database)}`, ctx, MAINTENANCE_DB)
  ctx.log(`created database ${t.database} on ${t.host}:${t.port}`)
  return true
}

async function dropCreated(t: PgTarget, ctx: PluginContext): Promise<void> {
  // The task's signal may have fired already; this cleanup gets its own, with a time limit.
  const cleanup: PluginContext = { signal: AbortSignal.timeout(30_000), log: ctx.log }
  try {
    await psql(t, `DROP DATABASE IF EXISTS ${ident(t.database)}`, cleanup, MAINTENANCE_DB)
    ctx.log(`dropped database ${t.database} again, as the restore into it failed`)
  } catch (err) {
    ctx.log(
      `could not drop database ${t.database} after the failed restore: ${scrub(String(err), t.password)}`,
    )
  }
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  const t = parse(endpoint)
  const opts = options(endpoint)
  if (opts.allDatabases) return restoreCluster(data, clusterTools(t, opts), ctx)
  return restoreOne(t, data, ctx)
}

async function restoreOne(t: PgTarget, data: Readable, ctx: PluginContext): Promise<void> {
  let created: boolean
  try {
    created = await ensureDatabase(t, ctx)
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
    if (created) await dropCreated(t, ctx)
    throw err
  }
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

export default defineTarget({ backup, restore, test })
