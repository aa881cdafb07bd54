// Reads the stderr of pg_dump, pg_restore and psql and says what went wrong
// in terms of the endpoint the user filled in. The tools run with
// LC_MESSAGES=C, so the English patterns below hold whatever the locale.
import { PluginError } from '../../sdk/errors'

export interface PgTarget {
  host: string
  port: number
  user: string
  database: string
  password: string
  /** Seconds libpq waits for the server to answer (PGCONNECT_TIMEOUT); 15 when unset. */
  connectTimeout?: number
}

export const DEFAULT_CONNECT_TIMEOUT = 15

/** Replaces the password wherever it might appear; messages must never carry it. */
export function scrub(text: string, password: string): string {
  return password ? text.split(password).join('***') : text
}

const where = (t: PgTarget) => `${t.host}:${t.port}`

export function explainPg(
  tool: string,
  stderr: string,
  code: number | null,
  t: PgTarget,
  database = t.database,
): PluginError {
  const clean = scrub(stderr, t.password)
  const has = (re: RegExp) => re.test(clean)
  const permanent = (m: string) => new PluginError(scrub(m, t.password), 'permanent')
  const transient = (m: string) => new PluginError(scrub(m, t.password), 'transient')

  if (has(/password authentication failed/)) {
    return permanent(`PostgreSQL refused the password for user ${t.user} on ${where(t)}`)
  }
  if (has(/no password supplied/)) {
    return permanent(
      `PostgreSQL on ${where(t)} wants a password for user ${t.user}; enter it in the endpoint`,
    )
  }
  const role = /role "([^"]*)" does not exist/.exec(clean)
  if (role) return permanent(`role ${role[1]} does not exist on ${where(t)}`)
  const db = /database "([^"]*)" does not exist/.exec(clean)
  if (db) return permanent(`database ${db[1]} does not exist on ${where(t)}`)
  if (has(/no pg_hba\.conf entry/)) {
    return permanent(
      `PostgreSQL on ${where(t)} does not let user ${t.user} connect to database ${database} from this machine; add a pg_hba.conf entry for it`,
    )
  }
  if (has(/timeout expired|timed out/i)) {
    const seconds = t.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    return transient(
      `PostgreSQL at ${where(t)} did not answer within ${seconds} s (connect_timeout); check that the server is running and reachable, and not overloaded`,
    )
  }
  if (has(/could not translate host name/)) {
    return permanent(`cannot reach PostgreSQL at ${where(t)}: unknown host name ${t.host}`)
  }
  if (has(/Connection refused/i)) {
    return transient(
      `cannot reach PostgreSQL at ${where(t)}: connection refused (is the server running and listening on that address?)`,
    )
  }
  const unreachable =
    /could not connect to server: (.*)|connection to server .* failed: (.*)|(No route to host|Network is unreachable|server closed the connection unexpectedly)/.exec(
      clean,
    )
  if (unreachable) {
    const reason = (unreachable[1] ?? unreachable[2] ?? unreachable[3] ?? '').trim()
    return transient(`cannot reach PostgreSQL at ${where(t)}: ${reason || 'connection failed'}`)
  }
  if (has(/permission denied to create database/)) {
    return permanent(
      `user ${t.user} may not create database ${t.database} on ${where(t)}; create it first, or grant the role CREATEDB`,
    )
  }
  const denied = /permission denied for (\w+) ([^\s]+)/.exec(clean)
  if (denied) {
    return permanent(
      `user ${t.user} may not read ${denied[1]} ${denied[2]} in database ${database}; grant it the privileges a backup needs, or use a role that has them`,
    )
  }
  const mismatch = /server version: ([\d.]+); \S+ version: ([\d.]+)/.exec(clean)
  if (mismatch) {
    return permanent(
      `${tool} ${mismatch[2]} is older than the PostgreSQL ${mismatch[1]} server on ${where(t)}; install a postgresql-client of at least that version on the daemon machine`,
    )
  }
  if (
    has(/input file (does not appear to be a valid archive|is too short)|did not find magic string/)
  ) {
    return permanent('the data is not a pg_dump archive in custom format; nothing was restored')
  }
  if (has(/unexpected end of file|could not read input file|could not find block ID/)) {
    return permanent('the archive is incomplete or damaged; nothing was restored')
  }
  const sqlError = /ERROR:\s+(.*)/.exec(clean)
  if (tool === 'pg_restore' && sqlError) {
    return permanent(
      `restore into database ${database} failed and was rolled back: ${sqlError[1]!.trim()}`,
    )
  }
  const last = clean
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' / ')
  const how = code === null ? 'was killed' : `exited with code ${code}`
  return permanent(`${tool} ${how}${last ? `: ${last}` : ''}`)
}
