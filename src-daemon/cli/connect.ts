// Finding the daemon: --url / BULWARK_URL and --token / BULWARK_TOKEN win;
// otherwise the data directory's daemon.json (written by a running daemon)
// and its token file. Messages here tell a person how to fix what is missing.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DAEMON_FILE, TOKEN_FILE, type DaemonFile } from '../contract'
import { resolveDataDir } from '../client/data-dir'
import { CliError } from './errors'

export interface Connection {
  url: string
  token: string | undefined
  dataDir: string
  urlSource: 'flag' | 'env' | 'file'
  tokenSource: 'flag' | 'env' | 'file' | 'none'
}

export interface ConnectOptions {
  dataDir?: string | undefined
  url?: string | undefined
  token?: string | undefined
  env: NodeJS.ProcessEnv
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

export function startHint(dataDir: string): string {
  return `Start one with:  npm start   (or: bulwark daemon --data-dir ${quote(dataDir)})`
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`)
  }
}

export function findDaemon(opts: ConnectOptions): Connection {
  const dataDir = resolveDataDir(opts.dataDir, opts.env)
  const token =
    opts.token !== undefined
      ? { token: opts.token, source: 'flag' as const }
      : opts.env.BULWARK_TOKEN
        ? { token: opts.env.BULWARK_TOKEN, source: 'env' as const }
        : undefined
  const fileToken = () => {
    const text = readOptional(join(dataDir, TOKEN_FILE))?.trim()
    return text
      ? { token: text, source: 'file' as const }
      : { token: undefined, source: 'none' as const }
  }

  const explicitUrl = opts.url ?? (opts.env.BULWARK_URL || undefined)
  if (explicitUrl !== undefined) {
    const t = token ?? fileToken()
    return {
      url: explicitUrl,
      token: t.token,
      dataDir,
      urlSource: opts.url !== undefined ? 'flag' : 'env',
      tokenSource: t.source,
    }
  }

  const daemonFile = join(dataDir, DAEMON_FILE)
  const text = readOptional(daemonFile)
  if (text === undefined) {
    throw new CliError(
      `no Bulwark daemon is running for ${dataDir} (no ${DAEMON_FILE} there).\n${startHint(dataDir)}`,
    )
  }
  let info: Partial<DaemonFile>
  try {
    info = JSON.parse(text) as Partial<DaemonFile>
  } catch {
    throw new CliError(
      `${daemonFile} is not valid JSON; if no daemon is running, delete it.\n${startHint(dataDir)}`,
    )
  }
  if (typeof info.url !== 'string' || !info.url) {
    throw new CliError(`${daemonFile} has no "url"; is it from another program?`)
  }
  const t = token ?? fileToken()
  return { url: info.url, token: t.token, dataDir, urlSource: 'file', tokenSource: t.source }
}

/** Nothing answered at the connection's URL. */
export function unreachableMessage(conn: Connection, reason: string): string {
  if (conn.urlSource === 'file') {
    return (
      `no Bulwark daemon is running for ${conn.dataDir} (${DAEMON_FILE} names ${conn.url}, ` +
      `but nothing answers there: ${reason}).\n${startHint(conn.dataDir)}`
    )
  }
  const from = conn.urlSource === 'flag' ? '--url' : 'BULWARK_URL'
  return `no Bulwark daemon answers at ${conn.url} (from ${from}): ${reason}.\nCheck the URL, or start one with:  bulwark daemon`
}

/** The daemon answered 401. */
export function unauthorizedMessage(conn: Connection): string {
  const file = join(conn.dataDir, TOKEN_FILE)
  const where = {
    flag: 'the token came from --token',
    env: 'the token came from BULWARK_TOKEN',
    file: `the token was read from ${file}`,
    none: `no token was given (no --token, no BULWARK_TOKEN, no ${file})`,
  }[conn.tokenSource]
  return (
    `the daemon at ${conn.url} rejected the API token (401 unauthorized): ${where}.\n` +
    `Use the token from the daemon's data dir (--data-dir DIR, or BULWARK_HOME), or set BULWARK_TOKEN.`
  )
}
