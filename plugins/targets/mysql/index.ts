// Target `mysql`: one MySQL or MariaDB database as a mysqldump SQL stream
// (tables, data, views, routines, triggers, events), restorable with the mysql
// client into the same or any other database name. The password reaches the
// tools only through a private option file (connection.ts). Restoring is in
// restore.ts.
import { Transform, pipeline, type Readable } from 'node:stream'
import { runTool, spawnOutput, type ToolOptions } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import {
  connArgs,
  literal,
  parseEndpoint,
  where,
  withOptionFile,
  writeOptionFile,
  type Conn,
} from './connection'
import {
  defaultsQuery,
  encodeDefaults,
  parseDefaults,
  prepend,
  type DatabaseDefaults,
} from './defaults'
import { HIDDEN_ROUTINE, didNotAnswer, hiddenRoutine } from './errors'
import { restore, undoRestore } from './restore'
import { clientFlags, findClient, findDump, options, type Tool } from './tools'

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

export default defineTarget({ backup, restore, test, undoRestore })
