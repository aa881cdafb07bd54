// Connecting to Redis for the redis target: the endpoint's fields, one ioredis
// connection that never reconnects behind our back and closes on abort, and
// the translation of Redis and network errors into messages a person can act
// on (never with the password in them).
import { Redis } from 'ioredis'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext } from '../../sdk/types'

export interface RedisEndpoint {
  host: string
  port: number
  db: number
  username?: string
  password?: string
  /** Seconds to wait for the server to answer a new connection (TCP connect, AUTH, SELECT, INFO). */
  connectTimeout: number
  /** Restores: keys expire at the absolute time recorded at backup, not their TTL counted from the restore. */
  absoluteTtl: boolean
  /** keys: SCAN + DUMP over the network; rdb: the server's own RDB file after a BGSAVE (rdb-*.ts). */
  mode: 'keys' | 'rdb'
  /** rdb: seconds to wait for the BGSAVE, a restart command, or the restarted server. */
  saveTimeout: number
  /** rdb: the RDB file's path, when CONFIG GET cannot tell it. */
  rdbPath?: string
  /** rdb restores: the shell command that restarts the server (required for them). */
  restartCommand?: string
  /** rdb restores: the shell command that stops the server before its file is replaced. */
  stopCommand?: string
}

export const DEFAULT_CONNECT_TIMEOUT = 15
export const DEFAULT_SAVE_TIMEOUT = 600
/** Fields that only mode rdb reads; set with mode keys they are a mistake worth saying. */
const RDB_ONLY = ['rdb_path', 'restart_command', 'stop_command'] as const
export const CONNECTION_NAME = 'bulwark-redis-target'

function text(ep: Endpoint, name: string): string | undefined {
  const value = ep[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw new PluginError(`the Redis target's ${name} must be text`)
  return value
}

function integer(ep: Endpoint, name: string, fallback: number, lo: number, hi: number): number {
  const value = ep[name]
  if (value === undefined || value === null || value === '') return fallback
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) {
    throw new PluginError(`the Redis target's ${name} must be a whole number from ${lo} to ${hi}`)
  }
  return n
}

function flag(ep: Endpoint, name: string): boolean {
  const value = ep[name]
  if (value === undefined || value === null || value === '') return false
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  throw new PluginError(`the Redis target's ${name} must be true or false`)
}

function mode(ep: Endpoint): 'keys' | 'rdb' {
  const value = ep.mode ?? 'keys'
  if (value === '' || value === 'keys' || value === 'rdb') return value === 'rdb' ? 'rdb' : 'keys'
  throw new PluginError(
    `the Redis target's mode must be keys (SCAN + DUMP over the network) or rdb (the server's RDB file after a BGSAVE), got ${JSON.stringify(value)}`,
  )
}

export function parseEndpoint(ep: Endpoint): RedisEndpoint {
  const e: RedisEndpoint = {
    host: text(ep, 'host') ?? '127.0.0.1',
    port: integer(ep, 'port', 6379, 1, 65535),
    db: integer(ep, 'db', 0, 0, 15),
    connectTimeout: integer(ep, 'connect_timeout', DEFAULT_CONNECT_TIMEOUT, 1, 86_400),
    absoluteTtl: flag(ep, 'absolute_ttl'),
    mode: mode(ep),
    saveTimeout: integer(ep, 'save_timeout', DEFAULT_SAVE_TIMEOUT, 1, 86_400),
  }
  const username = text(ep, 'username')
  const password = text(ep, 'password')
  if (username) e.username = username
  if (password) e.password = password
  if (e.mode === 'keys') {
    const set = RDB_ONLY.find((name) => text(ep, name) !== undefined)
    if (set) {
      throw new PluginError(
        `the Redis target's ${set} is only used with mode rdb; clear ${set} or set mode to rdb`,
      )
    }
    return e
  }
  const rdbPath = text(ep, 'rdb_path')
  if (rdbPath !== undefined && !rdbPath.startsWith('/')) {
    throw new PluginError(
      `the Redis target's rdb_path must be an absolute path (such as /var/lib/redis/dump.rdb)`,
    )
  }
  const restartCommand = text(ep, 'restart_command')?.trim()
  const stopCommand = text(ep, 'stop_command')?.trim()
  if (rdbPath) e.rdbPath = rdbPath
  if (restartCommand) e.restartCommand = restartCommand
  if (stopCommand) e.stopCommand = stopCommand
  return e
}

export const UNKNOWN = 'unknown'
/** "Redis 7.0.15", or just "Redis" when the user may not run INFO. */
export const redisName = (version: string): string =>
  version === UNKNOWN ? 'Redis' : `Redis ${version}`

export const where = (e: RedisEndpoint): string =>
  e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`

export interface Connection {
  client: Redis
  /** The server's redis_version. */
  version: string
  /** Turns anything a call threw into a PluginError or PluginAbortedError. */
  explain(err: unknown): Error
  /** Quits politely, or drops the connection; never throws. */
  close(): Promise<void>
}

const NETWORK = /ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN/

function translate(e: RedisEndpoint, err: Error): PluginError {
  const at = where(e)
  const msg = err.message
  const code = (err as NodeJS.ErrnoException).code ?? ''
  if (/^WRONGPASS/.test(msg)) {
    const user = e.username ? ` for user "${e.username}"` : ''
    return new PluginError(`Redis refused the password on ${at}${user}`)
  }
  if (/^NOAUTH/.test(msg)) return new PluginError(`Redis at ${at} requires a password`)
  if (/without any password configured/.test(msg)) {
    return new PluginError(`Redis at ${at} has no password set; leave the password field empty`)
  }
  if (/^NOPERM/.test(msg)) {
    return new PluginError(`the Redis user on ${at} is not allowed to do this: ${msg}`)
  }
  if (/DB index is out of range/.test(msg)) {
    return new PluginError(`Redis at ${at} has no db ${e.db} (see its "databases" setting)`)
  }
  if (/^LOADING/.test(msg)) {
    return new PluginError(`Redis at ${at} is still loading its data; try again later`, 'transient')
  }
  if (code === 'ENOTFOUND') {
    return new PluginError(`cannot reach Redis at ${at}: no host is named ${e.host}`)
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)) {
    return new PluginError(
      `cannot reach Redis at ${at}: connection refused (is Redis running and listening there?)`,
      'transient',
    )
  }
  if (code === 'ETIMEDOUT' || /ETIMEDOUT/.test(msg)) {
    return new PluginError(
      `Redis at ${at} did not answer within ${e.connectTimeout} s (connect_timeout); check that the server is running and reachable, and not overloaded`,
      'transient',
    )
  }
  if (/Protocol error/.test(msg)) {
    return new PluginError(`something answers at ${at}, but it does not speak the Redis protocol`)
  }
  if (NETWORK.test(code) || NETWORK.test(msg) || /Connection is closed/.test(msg)) {
    return new PluginError(`cannot reach Redis at ${at}: ${msg}`, 'transient')
  }
  return new PluginError(`Redis at ${at}: ${msg}`)
}

/** Connects, authenticates, selects the db and reads the server version. */
export async function connect(e: RedisEndpoint, ctx: PluginContext): Promise<Connection> {
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const client = new Redis({
    host: e.host,
    port: e.port,
    username: e.username,
    password: e.password,
    connectionName: CONNECTION_NAME, // so CLIENT LIST shows who this is
    lazyConnect: true,
    connectTimeout: e.connectTimeout * 1000,
    disconnectTimeout: 500, // a peer that ignores our FIN is cut off after this (abort, timeout)
    maxRetriesPerRequest: 1,
    retryStrategy: () => null, // a dropped connection fails the task instead of resuming silently
    enableAutoPipelining: false,
    enableReadyCheck: false, // its INFO may be denied; a still-loading Redis answers LOADING
  })
  // ioredis reports the reason a connection failed only as an 'error' event.
  let lastError: Error | undefined
  client.on('error', (err: Error) => void (lastError = err))
  const drop = () => client.disconnect()
  ctx.signal.addEventListener('abort', drop, { once: true })

  const explain = (err: unknown): Error => {
    if (ctx.signal.aborted) return new PluginAbortedError()
    if (err instanceof PluginError || err instanceof PluginAbortedError) return err
    let cause = err instanceof Error ? err : new Error(String(err))
    if (/Connection is closed/.test(cause.message) && lastError) cause = lastError
    const out = translate(e, cause)
    // Belt and braces: no message may carry the secret, whatever the server said.
    if (e.password && out.message.includes(e.password)) {
      return new PluginError(out.message.split(e.password).join('***'), out.kind)
    }
    return out
  }
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      ctx.signal.removeEventListener('abort', drop)
      if (client.status === 'ready') await client.quit().catch(() => undefined)
      client.disconnect()
    })())

  // connectTimeout covers the TCP connect only; a peer that accepts and stays silent must not hang us.
  let silent = false
  const timer = setTimeout(() => {
    silent = true
    client.disconnect()
  }, e.connectTimeout * 1000)
  try {
    await client.connect()
    // Not ioredis's `db` option: when its SELECT fails it stays on db 0 and carries on.
    await client.select(e.db)
    // A backup-only ACL user may lack INFO; the version is then only missing from messages.
    const info = await client.info('server').catch((err: Error) => {
      if (/^NOPERM/.test(err.message)) return ''
      throw err
    })
    const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? UNKNOWN
    return { client, version, explain, close }
  } catch (err) {
    await close()
    throw silent && !ctx.signal.aborted ? translate(e, timeout()) : explain(err)
  } finally {
    clearTimeout(timer)
  }
}

const timeout = () => Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })
