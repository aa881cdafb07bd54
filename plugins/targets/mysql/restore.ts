// Restoring a mysqldump stream: into the endpoint's database, created when
// it does not exist (with the backed-up database's defaults, and an undo note
// to the daemon first), refused when the dump was cut short; and the daemon's
// undo of a restore that created a database and failed.
import { Transform, pipeline, type Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, type ToolOptions } from '../../sdk/process'
import type { Endpoint, PluginContext } from '../../sdk/types'
import {
  connArgs,
  literal,
  parseEndpoint,
  quoteIdent,
  where,
  withOptionFile,
  type Conn,
} from './connection'
import { defaultsQuery, headReader, parseDefaults, type DatabaseDefaults } from './defaults'
import { clientFlags, findClient, options, type Tool } from './tools'

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

export async function restore(
  endpoint: Endpoint,
  data: Readable,
  ctx: PluginContext,
): Promise<void> {
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

/** Drops the database a failed or interrupted restore created (see ensureDatabase), if it is still there. */
export async function undoRestore(
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
