// Turns what mysqldump / mysql print on failure into messages a person can act
// on: refused password, unreachable server, missing database, or the client's
// own error line (with its line number, for a failed restore). The password
// never appears in them.
import { PluginError } from '../../sdk/errors'
import { where, type Conn } from './connection'

/** The server or client error code in a line: `ERROR 1045 (28000)`, `Got error: 2002:`, `(1142)`. */
const CODE = /(?:\bERROR|\b[Ee]rror:?) (\d{4})\b|\((\d{4})\)\s*$/

/** The message of one stderr line, without the program name and error-code decoration. */
function messageOf(line: string): string {
  const bare = line.replace(/^[\w./-]*(?:mysql|mariadb)[\w-]*: /, '').trim()
  const client = /^ERROR \d+ \([^)]*\)(?: at line \d+)?: (.*)$/.exec(bare)
  if (client?.[1] && !/ at line \d+/.test(bare)) return client[1]
  const got = /^Got error: \d+: "(.*)" when (.*)$/.exec(bare)
  if (got?.[1]) return got[1]
  return bare
}

export interface Failure {
  code: number | undefined
  message: string
}

/** The most telling error in the stderr tail: the last line with an error code, else the last line. */
export function parseFailure(stderr: string): Failure {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    // Not mysqldump's --verbose progress lines ("-- Connecting to ...").
    .filter((l) => l && !/^-+$/.test(l) && !/^Warning\b/i.test(l) && !/^-- /.test(l))
  for (const line of lines.reverse()) {
    const m = CODE.exec(line)
    if (m) return { code: Number(m[1] ?? m[2]), message: messageOf(line) }
  }
  return { code: undefined, message: lines[0] ? messageOf(lines[0]) : '' }
}

/** Removes the password from text, should a tool or server ever echo it. */
export function scrub(text: string, conn: Conn): string {
  return conn.password.length >= 4 ? text.replaceAll(conn.password, '********') : text
}

const CANNOT_REACH = new Set([2002, 2003, 2005, 2006])

/** A server that accepts the connection but does not answer it within connect_timeout. */
export const didNotAnswer = (conn: Conn): PluginError =>
  new PluginError(
    `MySQL at ${where(conn)} did not answer within ${conn.connectTimeout} s (connect_timeout): it accepts connections but sends nothing back; check that the server is running and not overloaded`,
    'transient',
  )

/** The client's connect timeout ran out (errno 110 is ETIMEDOUT), during the TCP connect or the handshake. */
const TIMED_OUT = /system error: 110\b|\(110\)|timed out|ETIMEDOUT/i

/** mysqldump's complaint about a routine whose body it could not read (MySQL's still exits 0). */
export const HIDDEN_ROUTINE = /has insuffici?ent privileges to SHOW CREATE/i

export const hiddenRoutine = (conn: Conn): PluginError =>
  new PluginError(
    `MySQL user ${conn.user} may not read every routine of database ${conn.database} on ${where(conn)}; grant it SELECT on mysql.proc (MariaDB) or SHOW_ROUTINE (MySQL 8), or back up as the routines' definer`,
  )

/**
 * The PluginError for a failed mysqldump / mysql run; `what` names the
 * operation for errors that are not about connecting ("restore into database x").
 */
export function explainFailure(
  conn: Conn,
  what: string,
  stderr: string,
  exitCode: number | null,
): PluginError {
  const { code, message } = parseFailure(stderr)
  const at = where(conn)
  const text = (s: string) => scrub(s, conn)
  if (code === 1045 || code === 1698) {
    return new PluginError(text(`MySQL refused the password for user ${conn.user} on ${at}`))
  }
  if (code === 1049 || /Unknown database/i.test(message)) {
    return new PluginError(text(`database ${conn.database} does not exist on ${at}`))
  }
  if (code === 1044) {
    return new PluginError(
      text(`MySQL user ${conn.user} may not use database ${conn.database} on ${at}: ${message}`),
    )
  }
  if (code === 1130) {
    return new PluginError(text(`MySQL at ${at} does not accept this machine: ${message}`))
  }
  const connecting = code === 2013 && /handshake|initial communication packet/i.test(message)
  if ((connecting || (code !== undefined && CANNOT_REACH.has(code))) && TIMED_OUT.test(message)) {
    return didNotAnswer(conn)
  }
  if (
    (code !== undefined && CANNOT_REACH.has(code)) ||
    /Can't connect|Unknown (MySQL )?server host/i.test(message)
  ) {
    return new PluginError(text(`cannot reach MySQL at ${at}: ${message}`), 'transient')
  }
  if (HIDDEN_ROUTINE.test(stderr)) return hiddenRoutine(conn)
  if (code === 2013 || /Lost connection/i.test(message)) {
    return new PluginError(text(`lost the connection to MySQL at ${at}: ${message}`), 'transient')
  }
  const how = exitCode === null ? 'the tool was killed' : `exit code ${exitCode}`
  return new PluginError(text(`${what} failed: ${message || how}`))
}
