// Target `mysql`: one MySQL or MariaDB database as a mysqldump SQL stream
// (tables, data, views, routines, triggers, events), restorable with the mysql
// client into the same or any other database name. The password reaches the
// tools only through a private option file (connection.ts).
import { Transform, pipeline, type Readable } from 'node:stream'
import { PluginError } from '../../sdk/errors'
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
import { HIDDEN_ROUTINE, explainFailure, hiddenRoutine } from './errors'
import { findClient, findDump, type Tool } from './tools'

/**
 * No --databases: the dump then holds no CREATE DATABASE / USE, so it restores
 * into whichever database the client selects.
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
const clientFlags = (client: Tool): string[] => [
  '--batch',
  '--connect-timeout=20',
  '--default-character-set=utf8mb4',
  '--max-allowed-packet=1G',
  // MariaDB's client: no echo of a failed (possibly huge) statement; no shell escapes.
  ...(client.mariadb ? ['--skip-print-query-on-error', '--sandbox'] : []),
]

const options = (conn: Conn, what: string): ToolOptions => ({
  env: toolEnv,
  explain: (stderr, code) => explainFailure(conn, what, stderr, code),
})

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const conn = parseEndpoint(endpoint)
  const dump = await findDump(ctx)
  let incomplete = false
  const watched: PluginContext = {
    signal: ctx.signal,
    log: (line) => {
      if (HIDDEN_ROUTINE.test(line)) incomplete = true
      ctx.log(line)
    },
  }
  const file = writeOptionFile(conn)
  let out: Readable
  try {
    const args = [...connArgs(file, conn), ...DUMP_FLAGS, ...mysqlDumpFlags(dump)]
    const opts = options(conn, `backup of database ${conn.database}`)
    out = spawnOutput(dump.path, [...args, '--', conn.database], watched, opts)
  } catch (err) {
    file.dispose()
    throw err
  }
  // Gone once the dump has ended, failed, been aborted or abandoned by the consumer.
  out.once('close', () => file.dispose())
  ctx.log(`dumping database ${conn.database} from ${where(conn)} with ${dump.path}`)

  // A dump missing routine bodies exits 0: fail it instead of letting it look whole.
  const guard = new Transform({
    transform: (chunk, _enc, done) => done(null, chunk),
    flush: (done) => done(incomplete ? hiddenRoutine(conn) : null),
  })
  return pipeline(out, guard, () => undefined)
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

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  try {
    const conn = parseEndpoint(endpoint)
    const client = await findClient(ctx)
    const opts = options(conn, `restore into database ${conn.database}`)
    await withOptionFile(conn, async (file) => {
      const base = [...connArgs(file, conn), ...clientFlags(client)]
      // The dump names no database (see DUMP_FLAGS), so it goes wherever we point it.
      const create = `CREATE DATABASE IF NOT EXISTS ${quoteIdent(conn.database)}`
      await runTool(client.path, [...base, '-e', create], ctx, opts)
      ctx.log(`restoring into database ${conn.database} on ${where(conn)} with ${client.path}`)
      // --binary-mode: take the stream byte for byte (no \0 or \r\n handling); the
      // client stops at the first failing statement and exits non-zero.
      const args = [...base, '--binary-mode', `--database=${conn.database}`]
      const checked = pipeline(data, requireComplete(conn), () => undefined)
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
        ...clientFlags(client),
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

export default defineTarget({ backup, restore, test })
