// How the mysql target reaches a server: the endpoint's fields and the private
// option file that carries the password to mysqldump / mysql (never argv, never
// MYSQL_PWD).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PluginError } from '../../sdk/errors'
import type { Endpoint } from '../../sdk/types'

export interface Conn {
  host: string
  port: number
  user: string
  password: string
  database: string
  /** Seconds to wait for the server to answer a new connection. */
  connectTimeout: number
}

export const DEFAULT_CONNECT_TIMEOUT = 15

/** A whole number of at least 1 (digits in text too), or the fallback when unset. */
function seconds(ep: Endpoint, field: string, fallback: number): number {
  const raw = ep[field]
  if (raw === undefined || raw === null || raw === '') return fallback
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new PluginError(`the ${field} must be a whole number of seconds, at least 1`)
  }
  return n
}

function text(ep: Endpoint, field: string, fallback?: string): string {
  const value = ep[field] ?? fallback
  if (typeof value !== 'string') throw new PluginError(`the ${field} field must be text`)
  if (value.includes('\0')) throw new PluginError(`the ${field} field contains a NUL character`)
  return value
}

export function parseEndpoint(ep: Endpoint): Conn {
  const rawPort = ep.port ?? 3306
  const port = typeof rawPort === 'string' && /^\d+$/.test(rawPort) ? Number(rawPort) : rawPort
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PluginError(`the port must be a whole number from 1 to 65535, not ${String(rawPort)}`)
  }
  const conn: Conn = {
    host: text(ep, 'host', '127.0.0.1').trim() || '127.0.0.1',
    port,
    user: text(ep, 'user', 'root').trim() || 'root',
    password: ep.password === undefined || ep.password === null ? '' : text(ep, 'password'),
    database: ep.database === undefined || ep.database === null ? '' : text(ep, 'database'),
    connectTimeout: seconds(ep, 'connect_timeout', DEFAULT_CONNECT_TIMEOUT),
  }
  if (!conn.database) throw new PluginError('the database field is required')
  if (conn.database.length > 64) {
    throw new PluginError(`the database name "${conn.database}" is longer than 64 characters`)
  }
  return conn
}

export const where = (c: Conn): string => `${c.host}:${c.port}`

/** An identifier quoted for SQL: `name`, with backticks doubled. */
export const quoteIdent = (name: string): string => `\`${name.replaceAll('`', '``')}\``

/** A MySQL string literal of any text (no quoting or escaping to get wrong). */
export const literal = (text: string): string =>
  `CONVERT(0x${Buffer.from(text).toString('hex')} USING utf8mb4)`

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
}

/**
 * A value for a MySQL option file: double-quoted (so '#' is not a comment and
 * edge spaces survive), with the escapes mysys understands.
 */
export const optionValue = (value: string): string =>
  `"${value.replace(/[\\"\n\r\t\b]/g, (c) => ESCAPES[c] ?? c)}"`

export interface OptionFile {
  path: string
  /** Removes the file and its directory; safe to call more than once. */
  dispose(): void
}

/** Option-file directories not yet removed, cleaned up if the daemon exits first. */
const live = new Set<string>()
let exitHook = false

function removeDir(dir: string): void {
  live.delete(dir)
  try {
    rmSync(dir, { recursive: true, force: true })
  } catch {
    // best effort: it is in a private 0700 directory of the temp dir
  }
}

/**
 * Writes a [client] option file (0600, in a fresh 0700 directory) with the
 * connection and the password. The tools read it through
 * --defaults-extra-file, which must be their first argument.
 */
export function writeOptionFile(conn: Conn): OptionFile {
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => [...live].forEach(removeDir))
  }
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-mysql-'))
  live.add(dir)
  const path = join(dir, 'client.cnf')
  const lines = [
    '[client]',
    `user=${optionValue(conn.user)}`,
    `host=${optionValue(conn.host)}`,
    `port=${conn.port}`,
  ]
  if (conn.password) lines.push(`password=${optionValue(conn.password)}`)
  try {
    writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    removeDir(dir)
    throw new PluginError(
      `could not write the temporary MySQL option file in ${dir}`,
      'transient',
      {
        cause: err,
      },
    )
  }
  return { path, dispose: () => removeDir(dir) }
}

/**
 * The connection arguments. Host, port and user are repeated after the file
 * because the daemon user's ~/.my.cnf is read after --defaults-extra-file and
 * would otherwise win; they are not secret.
 */
export const connArgs = (file: OptionFile, c: Conn): string[] => [
  `--defaults-extra-file=${file.path}`,
  `--host=${c.host}`,
  `--port=${c.port}`,
  `--user=${c.user}`,
]

/** A stray MYSQL_PWD in the daemon's environment must not stand in for the endpoint's password. */
export const toolEnv = { MYSQL_PWD: undefined }

/** Runs fn with an option file for conn, removing the file however fn ends. */
export async function withOptionFile<T>(
  conn: Conn,
  fn: (file: OptionFile) => Promise<T>,
): Promise<T> {
  const file = writeOptionFile(conn)
  try {
    return await fn(file)
  } finally {
    file.dispose()
  }
}
