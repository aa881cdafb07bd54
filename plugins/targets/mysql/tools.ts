// Which MySQL / MariaDB client programs are installed, and their flavour, so
// the target passes each only the flags it understands, and how the client is run.
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { PluginError } from '../../sdk/errors'
import { runTool, type ToolOptions } from '../../sdk/process'
import type { PluginContext } from '../../sdk/types'
import { toolEnv, type Conn } from './connection'
import { explainFailure } from './errors'

export interface Tool {
  path: string
  /** MariaDB's build of the tool (else MySQL's). */
  mariadb: boolean
  /** Major version of a MySQL build (5, 8, 9); 0 when unknown or MariaDB. */
  major: number
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The first of names found on the PATH, directory by directory (so PATH order
 * chooses between a MySQL and a MariaDB install; within one directory the
 * first name wins, e.g. mariadb-dump over its deprecated mysqldump alias).
 */
async function which(names: string[]): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (await executable(join(dir, name))) return join(dir, name)
  }
  throw new PluginError(
    `neither ${names.join(' nor ')} is installed or on the PATH; install the MySQL or MariaDB client tools on the machine that runs the daemon`,
  )
}

const known = new Map<string, Tool>()

async function find(names: string[], ctx: PluginContext): Promise<Tool> {
  const path = await which(names)
  const cached = known.get(path)
  if (cached) return cached
  // "mysqldump  Ver 8.0.36 for Linux", "mysqldump  Ver 10.13 Distrib 5.7.44, for Linux",
  // "mariadb-dump from 11.4.2-MariaDB, client 10.19", "mysql  Ver 15.1 Distrib 10.11.6-MariaDB"
  const version = await runTool(path, ['--version'], ctx)
  const mariadb = /mariadb/i.test(version)
  const major = mariadb
    ? 0
    : Number(/Distrib (\d+)\./.exec(version)?.[1] ?? /Ver (\d+)\./.exec(version)?.[1] ?? 0)
  const tool = { path, mariadb, major }
  known.set(path, tool)
  return tool
}

/** mariadb-dump or mysqldump. */
export const findDump = (ctx: PluginContext): Promise<Tool> =>
  find(['mariadb-dump', 'mysqldump'], ctx)

/** The mariadb or mysql command-line client. */
export const findClient = (ctx: PluginContext): Promise<Tool> => find(['mariadb', 'mysql'], ctx)

/** Client flags for statements run with -e or fed on stdin. */
export const clientFlags = (client: Tool, conn: Conn): string[] => [
  '--batch',
  // Also bounds the wait for the server's greeting (a server that accepts and never answers).
  `--connect-timeout=${conn.connectTimeout}`,
  '--default-character-set=utf8mb4',
  '--max-allowed-packet=1G',
  // MariaDB's client: no echo of a failed (possibly huge) statement; no shell escapes.
  ...(client.mariadb ? ['--skip-print-query-on-error', '--sandbox'] : []),
]

export const options = (conn: Conn, what: string): ToolOptions => ({
  env: toolEnv,
  explain: (stderr, code) => explainFailure(conn, what, stderr, code),
})
