// The redis target's restore in mode rdb: the archive is an RDB file that
// replaces the server's whole dataset (every db). Everything that can refuse
// does so before the live file is touched: restart_command missing, AOF on
// (the server would load its AOF, not the RDB), a server that saves on
// shutdown with no stop_command (its save would overwrite the restored file),
// bytes that are not a whole RDB file or too new a format for this server.
// The archive is written to a temporary file beside the live one first; then
// stop_command (if any), the live file is kept as <name>.before-restore-<time>,
// the temporary file takes its place, restart_command runs, and the restore
// waits, bounded by save_timeout, for the server to answer and finish
// loading (rdb-server.ts). If the restart fails the previous file goes back
// and restart_command runs again. A cancel (or failure) after stop_command
// and before the swap starts the server again on its own file; once the live
// file is replaced, a cancel no longer cuts the restore short, so the server
// is never left down.
import { randomBytes } from 'node:crypto'
import { chmod, chown, open, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createWriteStream } from 'node:fs'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import { connect, redisName, where, type Connection, type RedisEndpoint } from './client'
import { persistence } from './rdb-backup'
import { dbs, runId, stopServer, waitReady } from './rdb-server'
import { runCommand } from './rdb-commands'
import { checkHere, inspectRdb, locateRdb, newestRdbFor, type RdbLocation } from './rdb-file'

/** Refuses a server that would not load the restored RDB file, or would overwrite it. */
async function refuseUnsafe(conn: Connection, e: RedisEndpoint): Promise<void> {
  const at = where(e)
  const aof = await persistence(conn).then(
    (p) => p.get('aof_enabled') === '1',
    async () => ((await conn.client.config('GET', 'appendonly')) as string[])[1] === 'yes',
  )
  if (aof) {
    throw new PluginError(
      `Redis at ${at} has appendonly on: the server loads its AOF at start, not the RDB; ` +
        'turn appendonly off or restore with mode keys',
    )
  }
  if (e.stopCommand) return
  let save: string
  try {
    save = String(((await conn.client.config('GET', 'save')) as string[])[1] ?? '')
  } catch (err) {
    throw new PluginError(
      `cannot tell whether Redis at ${at} saves its data when it stops (CONFIG GET save: ${(err as Error).message}), ` +
        'which would write over the restored file: set stop_command to stop it before the file is replaced',
    )
  }
  if (save.trim() !== '') {
    throw new PluginError(
      `Redis at ${at} saves its data when it stops (save "${save}"), so restart_command would write ` +
        'the current data over the restored file: set stop_command to stop it before the file is ' +
        'replaced (such as systemctl stop redis-server), or turn save off',
    )
  }
}

/** Receives the archive into a temporary file beside the live one; checks and syncs it. */
async function receive(
  data: Readable,
  at: RdbLocation,
  version: string,
  e: RedisEndpoint,
  ctx: PluginContext,
): Promise<string> {
  const temp = join(at.dir, `${at.name}.bulwark-${randomBytes(6).toString('hex')}`)
  try {
    await pipeline(data, createWriteStream(temp, { flags: 'wx', mode: 0o600 }), {
      signal: ctx.signal,
    }).catch((err: unknown) => {
      if (ctx.signal.aborted) throw new PluginAbortedError()
      if (err instanceof PluginError || err instanceof PluginAbortedError) throw err
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ERR_STREAM_PREMATURE_CLOSE') {
        throw new PluginError('the archive is truncated: it ended early')
      }
      throw new PluginError(`receiving the archive into ${temp} failed: ${(err as Error).message}`)
    })
    const fh = await open(temp, 'r+')
    try {
      const rdb = await inspectRdb(fh)
      if (rdb.bad !== undefined)
        throw new PluginError(`the archive is not a whole RDB file: ${rdb.bad}`)
      const newest = newestRdbFor(version)
      if (newest !== undefined && rdb.version > newest) {
        throw new PluginError(
          `the archive is an RDB file of format ${rdb.version}, written by a newer Redis than ` +
            `${redisName(version)} at ${where(e)}, which reads format ${newest} at most; restore into a newer Redis`,
        )
      }
      await fh.sync()
      ctx.log(`received the archive: an RDB file of format ${rdb.version}, ${rdb.size} bytes`)
    } finally {
      await fh.close()
    }
    await ownLike(temp, at)
    return temp
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
}

/** Gives the new file the live one's owner and mode, so the server may read it. */
async function ownLike(temp: string, at: RdbLocation): Promise<void> {
  const like = (await stat(at.path).catch(() => undefined)) ?? (await stat(at.dir))
  const mode = like.isDirectory() ? 0o640 : like.mode & 0o777
  await chmod(temp, mode)
  // Only root may give a file away; as the server's own user it is already its.
  await chown(temp, like.uid, like.gid).catch(() => undefined)
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.', '-')

/** Restores the archive as the server's RDB file; see the head of this file. */
export async function rdbRestore(
  e: RedisEndpoint,
  data: Readable,
  ctx: PluginContext,
): Promise<void> {
  if (!e.restartCommand) {
    throw new PluginError(
      'a restore in mode rdb needs restart_command: set it to the shell command that restarts this ' +
        'Redis on its host (such as systemctl restart redis-server), so it loads the restored file. ' +
        'Nothing was changed',
    )
  }
  const conn = await connect(e, ctx)
  let at: RdbLocation
  let running: string | undefined
  try {
    running = await runId(conn)
    at = await locateRdb(conn, e)
    await checkHere(e, at, 'write')
    await refuseUnsafe(conn, e)
    const keyspace = await conn.client.info('keyspace').catch(() => '')
    ctx.log(
      `mode rdb: the archive replaces the whole dataset (every db) of ${redisName(conn.version)} at ` +
        `${where(e)}, which now holds ${dbs(keyspace)}; its RDB file is ${at.path}`,
    )
  } catch (err) {
    throw conn.explain(err)
  } finally {
    await conn.close()
  }
  const temp = await receive(data, at, conn.version, e, ctx)
  const command = (field: string, line: string, abortable: boolean) =>
    runCommand(
      { field, command: line, timeout: e.saveTimeout, password: e.password, abortable },
      ctx,
    )

  // A stopped server is brought back on its own file when the restore stops before the swap.
  const bringBack = () =>
    command('restart_command', e.restartCommand!, false).then(
      () => 'restart_command was run to start it again on its own file, and succeeded',
      (err: Error) =>
        `restart_command was run to start it again on its own file, and failed (${err.message}): ` +
        `Redis at ${where(e)} may be down`,
    )

  if (e.stopCommand) {
    const failed = await stopServer(e, e.stopCommand, ctx).catch((err: Error) => err)
    if (failed) {
      await unlink(temp).catch(() => undefined)
      const back = await bringBack()
      if (failed instanceof PluginAbortedError) {
        ctx.log(`canceled after stop_command; nothing was replaced; ${back}`)
        throw failed
      }
      throw new PluginError(
        `${failed.message}. Nothing was replaced (${at.path} is as it was); ${back}`,
      )
    }
  }

  // From here on the live file changes: a cancel no longer cuts the restore short.
  const steady: PluginContext = { ...ctx, signal: new AbortController().signal }
  const before = `${at.path}.before-restore-${stamp(new Date())}`
  const hadFile = await stat(at.path).then(
    () => true,
    () => false,
  )
  try {
    if (hadFile) await rename(at.path, before)
    await rename(temp, at.path)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    if (hadFile) await rename(before, at.path).catch(() => undefined)
    const back = e.stopCommand ? `; ${await bringBack()}` : ''
    throw new PluginError(
      `could not put the restored file in place: ${(err as Error).message}${back}`,
    )
  }
  ctx.log(
    hadFile
      ? `the previous RDB file is kept as ${before}; the restored one is now ${at.path}`
      : `there was no RDB file before; the restored one is now ${at.path}`,
  )

  const rollBack = async (what: string): Promise<never> => {
    ctx.log(`${what}; putting the previous RDB file back`)
    try {
      if (hadFile) await rename(before, at.path)
      else await unlink(at.path)
    } catch (err) {
      throw new PluginError(
        `the restore failed: ${what}; and putting the previous RDB file back failed too ` +
          `(${(err as Error).message}): ${hadFile ? `move ${before} to ${at.path}` : `remove ${at.path}`} ` +
          'yourself and restart Redis',
      )
    }
    const again = await command('restart_command', e.restartCommand!, false).then(
      () => 'which succeeded: Redis runs on its previous data',
      (err: Error) => `which failed too (${err.message}): Redis at ${where(e)} may be down`,
    )
    throw new PluginError(
      `the restore failed and was undone: ${what}. The previous RDB file is back as ${at.path} ` +
        `and restart_command was run again, ${again}. The archive was not restored`,
    )
  }

  try {
    await command('restart_command', e.restartCommand, false)
  } catch (err) {
    await rollBack((err as Error).message)
  }
  const ready = await waitReady(e, steady, running)
  if (ready.state === 'same') {
    return rollBack(
      `restart_command finished, but Redis at ${where(e)} still runs as before (the same run_id) ` +
        `after ${e.saveTimeout} s (save_timeout): it did not restart, so it did not load the restored file`,
    )
  }
  if (ready.state === 'down') {
    return rollBack(
      `Redis at ${where(e)} did not answer within ${e.saveTimeout} s (save_timeout) after ` +
        `restart_command (${ready.why}); it may not be able to load the restored file (see its log)`,
    )
  }
  if (ready.state === 'loading') {
    throw new PluginError(
      `Redis at ${where(e)} is still loading the restored file after ${e.saveTimeout} s (save_timeout); ` +
        `it may yet finish: check the server${hadFile ? `. The previous RDB file is kept as ${before}` : ''}`,
    )
  }
  ctx.log(`Redis at ${where(e)} is up on the restored data: ${dbs(ready.keyspace)}`)
  if (ctx.signal.aborted)
    ctx.log('the cancel came after the file was replaced: the restore was finished')
}
