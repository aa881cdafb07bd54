// Target `mysql`: one MySQL or MariaDB database as a mysqldump SQL stream
// (tables, data, views, routines, triggers, events), restorable with the mysql
// client into the same or any other database name. The password reaches the
// tools only through a private option file (connection.ts).
import { Transform, pipeline, type Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, spawnOutput, type ToolOptions } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import {
  connArgs,
  parseEndpoint,
  quoteIdent,
  toolEnv,
  where,
  withOptionFile,
  writeOptionFile,
  type Conn,
} from './connection'
import {
  defaultsQuery,
  encodeDefaults,
  headReader,
  parseDefaults,
  prepend,
  type DatabaseDefaults,
} from './defaults'
import { HIDDEN_ROUTINE, didNotAnswer, explainFailure, hiddenRoutine } from './errors'
import { findClient, findDump, type Tool } from './tools'

/**
 * No --databases: the dump then holds no CREATE DATABASE / USE, so it restores
 * into whichever database the client selects. The database's default
 * character set and collation go in a header line of ours (defaults.ts).
 */
const DUMP_FLAGS = [
  '--single-transaction', // one consistent InnoDB snapshot, without locking writers out
  '--quick', // stream rows instead of buffering each table (default, but a my.cnf may turn it off)
  '--add-drop-table', // restore replaces existing tables (likewise)
  '--routines',
  '--triggers',
  '--events',
  '--hex-blob', // binary columns as 0x... literals: no charset conversion can touch them
  '--default-character-set=utf8mb4', // every character, emoji included
  '--no-tablespaces', // no CREATE TABLESPACE; MySQL 8.0.21+ would need PROCESS for it
  '--max-allowed-packet=1G', // the largest row the dump can fetch
  '--comments', // ends the dump with "-- Dump completed", which restore insists on
]

/** Only MySQL's own mysqldump has these (MariaDB's rejects them). */
const mysqlDumpFlags = (dump: Tool): string[] =>
  dump.mariadb
    ? []
    : // No SET GTID_PURGED (it fails on a server with its own GTIDs); MySQL 8's
      // dump otherwise queries COLUMN_STATISTICS, which MariaDB and 5.7 lack.
      ['--set-gtid-purged=OFF', ...(dump.major >= 8 ? ['--column-statistics=0'] : [])]

/** Client flags for statements run with -e or fed on stdin. */
const clientFlags = (client: Tool, conn: Conn): string[] => [
  '--batch',
  // Also bounds the wait for the server's greeting (a server that accepts and never answers).
  `--connect-timeout=${conn.connectTimeout}`,
  '--default-character-set=utf8mb4',
  '--max-allowed-packet=1G',
  // MariaDB's client: no echo of a failed (possibly huge) statement; no shell escapes.
  ...(client.mariadb ? ['--skip-print-query-on-error', '--sandbox'] : []),
]

const options = (conn: Conn, what: string): ToolOptions => ({
  env: toolEnv,
  explain: (stderr, code) => explainFailure(conn, what, stderr, code),
})

/** mysqldump's --verbose progress on stderr: "-- Connecting to host...", "-- Starting transaction...". */
const VERBOSE = /^-- /
const CONNECTING = /^-- Connecting to /

/**
 * mysqldump has no connect timeout (nor reads one from an option file), so a
 * server that accepts the connection and never answers would hang it for
 * ever. With --verbose it says "-- Connecting to ..." before connecting and
 * the next step once connected: without that next line within the endpoint's
 * connect_timeout, the dump is killed and fails saying so.
 */
const dumpOptions = (conn: Conn): ToolOptions => ({
  ...options(conn, `backup of database ${conn.database}`),
  connectWatchdog: {
    ms: conn.connectTimeout * 1000,
    connected: (line) => VERBOSE.test(line) && !CONNECTING.test(line),
    error: () => didNotAnswer(conn),
  },
})

/** The database's default charset and collation; undefined when it does not exist (the dump then says so). */
async function sourceDefaults(
  conn: Conn,
  ctx: PluginContext,
): Promise<DatabaseDefaults | undefined> {
  const client = await findClient(ctx)
  const out = await withOptionFile(conn, (file) =>
    runTool(
      client.path,
      [
        ...connArgs(file, conn),
        ...clientFlags(client, conn),
        '--skip-column-names',
        '-e',
        defaultsQuery(literal(conn.database)),
      ],
      ctx,
      options(conn, `backup of database ${conn.database}`),
    ),
  )
  return parseDefaults(out)
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const conn = parseEndpoint(endpoint)
  const dump = await findDump(ctx)
  const defaults = await sourceDefaults(conn, ctx)
  let incomplete = false
  const watched: PluginContext = {
    signal: ctx.signal,
    log: (line) => {
      if (HIDDEN_ROUTINE.test(line)) incomplete = true
      // The --verbose progress (several lines a table) stays out of the task log.
      if (!VERBOSE.test(line.slice(line.indexOf(': ') + 2))) ctx.log(line)
    },
  }
  const file = writeOptionFile(conn)
  let out: Readable
  try {
    const args = [...connArgs(file, conn), ...DUMP_FLAGS, ...mysqlDumpFlags(dump), '--verbose']
    out = spawnOutput(dump.path, [...args, '--', conn.database], watched, dumpOptions(conn))
  } catch (err) {
    file.dispose()
    throw err
  }
  // Gone once the dump has ended, failed, been aborted or abandoned by the consumer.
  out.once('close', () => file.dispose())
  ctx.log(
    `dumping database ${conn.database} from ${where(conn)} with ${dump.path}` +
      (defaults
        ? ` (default character set ${defaults.charset}, collation ${defaults.collation})`
        : ''),
  )

  // A dump missing routine bodies exits 0: fail it instead of letting it look whole.
  const guard = new Transform({
    transform: (chunk, _enc, done) => done(null, chunk),
    flush: (done) => done(incomplete ? hiddenRoutine(conn) : null),
  })
  if (!defaults) return pipeline(out, guard, () => undefined)
  return pipeline(out, guard, prepend(encodeDefaults(defaults)), () => undefined)
}

/** mysqldump's last line; a dump without it was cut short. */
const COMPLETED = /\n-- Dump completed\b[^\n]*\s*$/

/**
 * Passes the dump through, failing at its end unless that is mysqldump's last
 * line, so the client is stopped (before it sees EOF) instead of taking a
 * dump cut at a statement boundary for a whole one.
 */
function requireComplete(conn: Conn): Transform {
  let tail = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      tail = Buffer.concat([tail, chunk.subarray(-256)]).subarray(-256)
      done(null, chunk)
    },
    flush(done) {
      if (COMPLETED.test(tail.toString('latin1'))) return done()
      done(
        new PluginError(
          `the backup is incomplete (it does not end with mysqldump's "Dump completed" line); database ${conn.database} on ${where(conn)} holds only part of it`,
        ),
      )
    },
  })
}

/** A MySQL string literal of any text (no quoting or escaping to get wrong). */
const literal = (text: string): string =>
  `CONVERT(0x${Buffer.from(text).toString('hex')} USING utf8mb4)`

const existsQuery = (database: string): string =>
  `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${literal(database)}`

/**
 * Creates the database unless it exists, with the source database's default
 * character set and collation when the archive records them (else the
 * server's). The restore's undo note is written before CREATE DATABASE (so a
 * crash right after still leaves a trace), and only when this restore is the
 * one creating it.
 */
async function ensureDatabase(
  conn: Conn,
  base: string[],
  client: Tool,
  ctx: PluginContext,
  opts: ToolOptions,
  defaults: DatabaseDefaults | undefined,
): Promise<void> {
  const found = parseDefaults(
    await runTool(
      client.path,
      [...base, '--skip-column-names', '-e', defaultsQuery(literal(conn.database))],
      ctx,
      opts,
    ),
  )
  if (found) {
    if (defaults && found.collation !== defaults.collation) {
      ctx.log(
        `database ${conn.database} exists with default character set ${found.charset}, collation ${found.collation}; ` +
          `it keeps them (the backed-up database had ${defaults.charset}, ${defaults.collation})`,
      )
    }
    return
  }
  const withdraw = ctx.created?.({ database: conn.database })
  const spec = defaults ? ` CHARACTER SET ${defaults.charset} COLLATE ${defaults.collation}` : ''
  try {
    await runTool(
      client.path,
      [...base, '-e', `CREATE DATABASE ${quoteIdent(conn.database)}${spec}`],
      ctx,
      opts,
    )
  } catch (err) {
    // The server refused: nothing was created (by us). Created meanwhile by someone else: theirs.
    if (err instanceof PluginError) withdraw?.()
    if (err instanceof PluginError && /database exists/i.test(err.message)) return
    throw err
  }
  ctx.log(
    `created database ${conn.database} on ${where(conn)}` +
      (defaults
        ? ` with the backed-up database's default character set ${defaults.charset}, collation ${defaults.collation}`
        : " with the server's default character set (the archive does not record the backed-up database's)"),
  )
}

/** p, or a PluginAbortedError as soon as signal fires. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new PluginAbortedError())
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new PluginAbortedError())
    signal.addEventListener('abort', abort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  try {
    const conn = parseEndpoint(endpoint)
    const client = await findClient(ctx)
    const opts = options(conn, `restore into database ${conn.database}`)
    await withOptionFile(conn, async (file) => {
      const base = [...connArgs(file, conn), ...clientFlags(client, conn)]
      // The first line may hold the source database's defaults (defaults.ts).
      const { stream: reader, head } = headReader()
      const checked = pipeline(data, reader, requireComplete(conn), () => undefined)
      const defaults = await untilAborted(head, ctx.signal).catch((err: unknown) => {
        checked.destroy()
        throw err
      })
      // The dump names no database (see DUMP_FLAGS), so it goes wherever we point it.
      await ensureDatabase(conn, base, client, ctx, opts, defaults).catch((err: unknown) => {
        checked.destroy()
        throw err
      })
      ctx.log(`restoring into database ${conn.database} on ${where(conn)} with ${client.path}`)
      // --binary-mode: take the stream byte for byte (no \0 or \r\n handling); the
      // client stops at the first failing statement and exits non-zero.
      const args = [...base, '--binary-mode', `--database=${conn.database}`]
      await spawnInput(client.path, args, checked, ctx, opts)
    })
  } catch (err) {
    data.destroy() // not (all) read: let whatever feeds it stop
    throw err
  }
}

const SIZE_QUERY =
  'SELECT VERSION(), COUNT(*), COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0)' +
  " FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"

/** "10.11.6-MariaDB-0+deb12u1" → "MariaDB 10.11.6"; "8.0.36" → "MySQL 8.0.36". */
export function serverName(version: string): string {
  const v = version.replace(/^5\.5\.5-/, '') // how MariaDB once announced itself to old clients
  const number = /^\d+(?:\.\d+)*/.exec(v)?.[0] ?? v
  return `${/mariadb/i.test(v) ? 'MariaDB' : 'MySQL'} ${number}`
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const conn = parseEndpoint(endpoint)
  const client = await findClient(ctx)
  const out = await withOptionFile(conn, (file) =>
    runTool(
      client.path,
      [
        ...connArgs(file, conn),
        ...clientFlags(client, conn),
        '--skip-column-names',
        `--database=${conn.database}`,
        '-e',
        SIZE_QUERY,
      ],
      ctx,
      options(conn, `connection test of database ${conn.database}`),
    ),
  )
  const [version = '', tables = '0', bytes = '0'] = out.trim().split('\t')
  const mb = (Number(bytes) / 1024 / 1024).toFixed(1)
  const count = Number(tables)
  return `connected to ${serverName(version)}, database ${conn.database} (${count} table${count === 1 ? '' : 's'}, ${mb} MB)`
}

/** Drops the database a failed or interrupted restore created (see ensureDatabase), if it is still there. */
async function undoRestore(
  endpoint: Endpoint,
  note: Record<string, unknown>,
  ctx: PluginContext,
): Promise<void> {
  if (typeof note.database !== 'string' || note.database === '') {
    throw new PluginError('the restore left a note without a database name; nothing to undo')
  }
  const conn = parseEndpoint({ ...endpoint, database: note.database })
  const client = await findClient(ctx)
  const opts = options(conn, `dropping database ${conn.database}`)
  await withOptionFile(conn, async (file) => {
    const base = [...connArgs(file, conn), ...clientFlags(client, conn)]
    const found = await runTool(
      client.path,
      [...base, '--skip-column-names', '-e', existsQuery(conn.database)],
      ctx,
      opts,
    )
    if (found.trim() === '0') {
      ctx.log(
        `database ${conn.database} on ${where(conn)}, created by the restore, is already gone`,
      )
      return
    }
    await runTool(
      client.path,
      [...base, '-e', `DROP DATABASE IF EXISTS ${quoteIdent(conn.database)}`],
      ctx,
      opts,
    )
    ctx.log(
      `dropped database ${conn.database} on ${where(conn)}, which the failed restore had created`,
    )
  })
}

export default defineTarget({ backup, restore, test, undoRestore })
