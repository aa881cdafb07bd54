// The redis target's backup in mode rdb: have the server write a fresh RDB
// file with BGSAVE (after any save or AOF rewrite already running), wait,
// bounded by save_timeout, until LASTSAVE moves on and INFO persistence says
// the save is over and went well, then stream the file from this machine's
// disk. It must run on the Redis server's host (through an agent). The file
// is opened before the connection closes and streamed from that descriptor,
// so a later save replacing it cannot mix two files.
import { open, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import { redisName, where, type Connection, type RedisEndpoint } from './client'
import { checkHere, inspectRdb, locateRdb, type RdbLocation } from './rdb-file'

const POLL_MS = 250
const PROGRESS_EVERY_MS = 30_000
/** A file older than the save by more than this (clock granularity, slow disks) is not the save's. */
const MTIME_SLACK_MS = 2000

/** INFO persistence as name -> value. */
export async function persistence(conn: Connection): Promise<Map<string, string>> {
  const info = await conn.client.info('persistence')
  return new Map(
    info
      .split(/\r?\n/)
      .map((l) => l.split(':'))
      .filter((kv): kv is [string, string] => kv.length === 2)
      .map(([k, v]) => [k, v.trim()]),
  )
}

/** The server's clock in ms; the local one when TIME is not allowed. */
async function serverNow(conn: Connection): Promise<number> {
  const time = await conn.client.time().catch(() => undefined)
  if (!time) return Date.now()
  return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
}

class Deadline {
  private readonly end: number
  private nextProgress: number

  constructor(
    private readonly e: RedisEndpoint,
    private readonly ctx: PluginContext,
  ) {
    this.end = Date.now() + e.saveTimeout * 1000
    this.nextProgress = Date.now() + PROGRESS_EVERY_MS
  }

  /** Waits one poll interval; throws once save_timeout has passed or on abort. */
  async tick(what: string): Promise<void> {
    if (Date.now() >= this.end) {
      throw new PluginError(
        `Redis at ${where(this.e)} did not finish ${what} within ${this.e.saveTimeout} s (save_timeout); ` +
          'raise save_timeout for a dataset this large, or check the Redis log',
      )
    }
    if (Date.now() >= this.nextProgress) {
      this.nextProgress += PROGRESS_EVERY_MS
      const left = Math.round((this.end - Date.now()) / 1000)
      this.ctx.log(`still waiting for ${what} (${left} s left of save_timeout)`)
    }
    await sleep(POLL_MS, undefined, { signal: this.ctx.signal }).catch(() => {
      throw new PluginAbortedError()
    })
  }
}

const busy = (p: Map<string, string>) =>
  p.get('rdb_bgsave_in_progress') === '1' ||
  p.get('aof_rewrite_in_progress') === '1' ||
  p.get('module_fork_in_progress') === '1'

/** Starts our BGSAVE once no other save or rewrite runs; returns the server time just before. */
async function startSave(conn: Connection, deadline: Deadline, ctx: PluginContext) {
  let said = false
  for (;;) {
    if (busy(await persistence(conn))) {
      if (!said) {
        ctx.log('a background save or AOF rewrite is already running; waiting for it to end first')
        said = true
      }
      await deadline.tick('the background save or AOF rewrite already running')
      continue
    }
    // LASTSAVE counts whole seconds: ours must end in a later second than the last one.
    const lastsave = await conn.client.lastsave()
    let now = await serverNow(conn)
    while (Math.floor(now / 1000) <= lastsave) {
      await deadline.tick('the save before ours')
      now = await serverNow(conn)
    }
    try {
      await conn.client.bgsave()
      return { lastsave, startedAt: now }
    } catch (err) {
      const msg = (err as Error).message
      if (!/in progress|rewriting/i.test(msg)) throw err
      // Someone else's started between our look and our BGSAVE: wait for it too.
    }
  }
}

/** Runs BGSAVE and waits for it to succeed; returns the server time it was started at. */
export async function bgsave(
  conn: Connection,
  e: RedisEndpoint,
  ctx: PluginContext,
): Promise<number> {
  const deadline = new Deadline(e, ctx)
  const { lastsave, startedAt } = await startSave(conn, deadline, ctx)
  ctx.log(
    `BGSAVE started; waiting until LASTSAVE moves on from ${lastsave} and INFO persistence says ` +
      `rdb_bgsave_in_progress:0 (at most ${e.saveTimeout} s, save_timeout)`,
  )
  for (;;) {
    const p = await persistence(conn)
    if (p.get('rdb_bgsave_in_progress') === '0' && (await conn.client.lastsave()) !== lastsave) {
      if (p.get('rdb_last_bgsave_status') !== 'ok') {
        throw new PluginError(
          `the BGSAVE of Redis at ${where(e)} failed (rdb_last_bgsave_status:${p.get('rdb_last_bgsave_status')}); ` +
            'the Redis log says why (often: its dir is full or not writable by Redis)',
        )
      }
      return startedAt
    }
    await deadline.tick('the BGSAVE')
  }
}

const size = (n: number) =>
  n < 1024 * 1024 ? `${n} bytes` : `${(n / (1024 * 1024)).toFixed(1)} MiB`

/** Opens the file the save just wrote and checks it is one, and that one. */
async function openSaved(e: RedisEndpoint, at: RdbLocation, startedAt: number) {
  let fh: FileHandle
  try {
    fh = await open(at.path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new PluginError(
      code === 'ENOENT'
        ? `the BGSAVE of Redis at ${where(e)} finished, but there is no ${at.path} on this machine: ` +
            "the RDB file is on the Redis server's host, so mode rdb must run there through an agent (the target's agent field)"
        : `cannot read ${at.path} (${code}): run the target as a user that may read Redis's files`,
    )
  }
  try {
    const st = await fh.stat()
    if (st.mtimeMs < startedAt - MTIME_SLACK_MS) {
      throw new PluginError(
        `${at.path} on this machine was last written at ${st.mtime.toISOString()}, before the BGSAVE ` +
          `of Redis at ${where(e)} that just finished: it is not that server's file. The RDB file is on ` +
          "the Redis server's host: run the target there through an agent (its agent field), or correct rdb_path",
      )
    }
    const rdb = await inspectRdb(fh)
    if (rdb.bad !== undefined)
      throw new PluginError(`${at.path} is not a whole RDB file: ${rdb.bad}`)
    return { fh, bytes: rdb.size, version: rdb.version }
  } catch (err) {
    await fh.close()
    throw err
  }
}

/** The whole dataset (every db) as the RDB file a fresh BGSAVE wrote. */
export async function rdbBackup(
  conn: Connection,
  e: RedisEndpoint,
  ctx: PluginContext,
): Promise<Readable> {
  let saved: Awaited<ReturnType<typeof openSaved>>
  try {
    const at = await locateRdb(conn, e)
    await checkHere(e, at, 'read')
    ctx.log(
      `mode rdb: backing up the whole dataset of ${redisName(conn.version)} at ${where(e)} ` +
        `(every db, not only db ${e.db}) as its RDB file ${at.path}, written by BGSAVE`,
    )
    const startedAt = await bgsave(conn, e, ctx)
    saved = await openSaved(e, at, startedAt)
    ctx.log(`BGSAVE done; streaming ${at.path} (${size(saved.bytes)}, RDB format ${saved.version})`)
  } catch (err) {
    throw conn.explain(err)
  } finally {
    await conn.close()
  }
  if (ctx.signal.aborted) {
    await saved.fh.close()
    throw new PluginAbortedError()
  }
  const stream = saved.fh.createReadStream({ highWaterMark: 1024 * 1024 })
  const abort = () => stream.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', abort, { once: true })
  stream.once('close', () => ctx.signal.removeEventListener('abort', abort))
  return stream
}
