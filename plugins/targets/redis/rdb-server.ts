// Stopping and starting the server around an rdb restore: stop_command and
// the wait until nothing answers any more (Redis may still be saving on its
// way out), and the wait until the restarted server answers as a new process
// (its run_id changed) and has finished loading. Both are bounded by
// save_timeout.
import { setTimeout as sleep } from 'node:timers/promises'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import { connect, where, type Connection, type RedisEndpoint } from './client'
import { persistence } from './rdb-backup'
import { runCommand } from './rdb-commands'

const POLL_MS = 250

export type Ready =
  | { state: 'ready'; keyspace: string }
  | { state: 'loading'; why: string }
  | { state: 'down'; why: string }
  | { state: 'same'; why: string }

/** INFO server's run_id, which changes on every start; undefined when INFO is not allowed. */
export const runId = async (conn: Connection): Promise<string | undefined> =>
  /^run_id:(\w+)/m.exec(await conn.client.info('server').catch(() => ''))?.[1]

/**
 * Waits, up to save_timeout, for the restarted server to answer and finish
 * loading; a server still running as `before` (its run_id) has not restarted.
 */
export async function waitReady(
  e: RedisEndpoint,
  ctx: PluginContext,
  before: string | undefined,
): Promise<Ready> {
  const end = Date.now() + e.saveTimeout * 1000
  let last: Ready = { state: 'down', why: 'it never answered' }
  ctx.log(
    `waiting for Redis at ${where(e)} to answer PING and finish loading (INFO persistence loading:0), ` +
      `at most ${e.saveTimeout} s (save_timeout)`,
  )
  while (Date.now() < end) {
    let conn: Connection | undefined
    try {
      conn = await connect(e, ctx)
      await conn.client.ping()
      if (before !== undefined && (await runId(conn)) === before) {
        last = { state: 'same', why: `run_id ${before}` }
      } else if ((await persistence(conn)).get('loading') === '0') {
        const keyspace = await conn.client.info('keyspace')
        return { state: 'ready', keyspace }
      } else {
        last = { state: 'loading', why: 'it is still loading' }
      }
    } catch (err) {
      if (ctx.signal.aborted) throw new PluginAbortedError()
      const msg = (err as Error).message
      last = /loading/i.test(msg) ? { state: 'loading', why: msg } : { state: 'down', why: msg }
    } finally {
      await conn?.close()
    }
    await sleep(POLL_MS, undefined, { signal: ctx.signal }).catch(() => {
      throw new PluginAbortedError()
    })
  }
  return last
}

/**
 * Waits, up to save_timeout, until nothing accepts connections at the server's
 * address any more: a stop command may return while Redis still saves on its
 * way out, and that save would land on the restored file.
 */
async function waitDown(e: RedisEndpoint, ctx: PluginContext): Promise<boolean> {
  const end = Date.now() + e.saveTimeout * 1000
  const probe = { ...e, connectTimeout: 1 }
  while (Date.now() < end) {
    let conn: Connection | undefined
    try {
      conn = await connect(probe, ctx)
    } catch (err) {
      if (ctx.signal.aborted) throw new PluginAbortedError()
      if (/connection refused/.test((err as Error).message)) return true
    } finally {
      await conn?.close()
    }
    await sleep(POLL_MS, undefined, { signal: ctx.signal }).catch(() => {
      throw new PluginAbortedError()
    })
  }
  return false
}

export const dbs = (keyspace: string): string => {
  const lines = keyspace
    .split(/\r?\n/)
    .filter((l) => /^db\d+:/.test(l))
    .map((l) => l.replace(/,avg_ttl=.*$/, '').replace(/:keys=/, ': keys='))
  return lines.length ? lines.join('; ') : 'no keys'
}

/** Runs stop_command and waits until the server no longer accepts connections. */
export async function stopServer(
  e: RedisEndpoint,
  command: string,
  ctx: PluginContext,
): Promise<void> {
  try {
    await runCommand(
      { field: 'stop_command', command, timeout: e.saveTimeout, password: e.password },
      ctx,
    )
  } catch (err) {
    if (err instanceof PluginAbortedError) throw err
    throw new PluginError(`${(err as Error).message}; Redis at ${where(e)} may be partly stopped`)
  }
  if (!(await waitDown(e, ctx))) {
    throw new PluginError(
      `stop_command finished, but Redis at ${where(e)} still accepts connections after ` +
        `${e.saveTimeout} s (save_timeout): make stop_command stop this server, and wait for it`,
    )
  }
  ctx.log(`Redis at ${where(e)} is stopped`)
}
