// How the postgres target reaches a server: the endpoint read into a
// PgTarget, the connection arguments and environment every tool gets (the
// password only in PGPASSWORD), and psql for one statement.
import { PluginError } from '../../sdk/errors'
import { runTool, type ToolOptions } from '../../sdk/process'
import type { Endpoint, PluginContext } from '../../sdk/types'
import { DEFAULT_CONNECT_TIMEOUT, explainPg, type PgTarget } from './explain'

/** The database restore connects to when it has to create the target database. */
export const MAINTENANCE_DB = 'postgres'

export interface Options {
  allDatabases: boolean
  exclude: string[]
}

export function options(endpoint: Endpoint): Options {
  const exclude = Array.isArray(endpoint.exclude_databases)
    ? endpoint.exclude_databases.map(String)
    : []
  return { allDatabases: endpoint.all_databases === true, exclude }
}

export function parse(endpoint: Endpoint): PgTarget {
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

export function connArgs(t: PgTarget, database = t.database): string[] {
  return [
    `--host=${t.host}`,
    `--port=${t.port}`,
    `--username=${t.user}`,
    `--dbname=${dbname(database)}`,
    '--no-password', // never prompt: the daemon has no terminal
  ]
}

export function toolOptions(tool: string, t: PgTarget, database = t.database): ToolOptions {
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
export function psql(t: PgTarget, sql: string, ctx: PluginContext, database = t.database) {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', ...connArgs(t, database)]
  return runTool('psql', [...args, '-c', sql], ctx, toolOptions('psql', t, database))
}

export const ident = (s: string) => `"${s.replace(/"/g, '""')}"`

/**
 * A context whose tool output is held back: `replay` passes it on to the
 * task log (for a failure worth showing), `drop` forgets it (for an answer
 * that was expected, such as a database that does not exist yet).
 */
export function holding(ctx: PluginContext): { ctx: PluginContext; replay(): void } {
  const held: string[] = []
  return {
    ctx: { signal: ctx.signal, log: (line) => void held.push(line) },
    replay: () => held.splice(0).forEach((line) => ctx.log(line)),
  }
}
