// The redis target: backs a Redis db up over the network with SCAN + DUMP +
// PTTL (+ PEXPIRETIME) into a framed stream (format.ts), and restores it with
// RESTORE ... REPLACE (ABSTTL with absolute_ttl) into any db of any Redis at
// the same or a later version. No agent, no access to the server's files; the
// connection closes on error and abort. With mode rdb it instead streams the
// server's RDB file after a BGSAVE and restores one by replacing that file and
// restarting the server (rdb-backup.ts, rdb-restore.ts), on the server's host.
import type { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import { backupStream } from './backup'
import { connect, parseEndpoint, redisName, where } from './client'
import { corrupt } from './format'
import { rdbBackup } from './rdb-backup'
import { checkHere, locateRdb } from './rdb-file'
import { rdbRestore } from './rdb-restore'
import { restoreKeys } from './restore'

const keys = (n: number) => `${n} ${n === 1 ? 'key' : 'keys'}`

/** Errors of the archive stream itself are not Redis's; keep them apart. */
function sourceError(err: unknown): Error {
  if (err instanceof PluginError || err instanceof PluginAbortedError) return err
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE') return corrupt('it ended early')
  return new PluginError(`reading the archive failed: ${e.message}`, 'permanent', { cause: err })
}

export default defineTarget({
  async backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
    const e = parseEndpoint(endpoint)
    const conn = await connect(e, ctx)
    if (e.mode === 'rdb') return rdbBackup(conn, e, ctx)
    try {
      const count = await conn.client.dbsize()
      ctx.log(`backing up db ${e.db} of ${redisName(conn.version)} at ${where(e)} (${keys(count)})`)
    } catch (err) {
      await conn.close()
      throw conn.explain(err)
    }
    return backupStream(conn, ctx)
  },

  async restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
    const abort = () => data.destroy(new PluginAbortedError())
    ctx.signal.addEventListener('abort', abort, { once: true })
    let dataError: unknown
    const onDataError = (err: unknown) => void (dataError = err)
    data.on('error', onDataError)
    try {
      if (ctx.signal.aborted) throw new PluginAbortedError()
      const e = parseEndpoint(endpoint)
      if (e.mode === 'rdb') return await rdbRestore(e, data, ctx)
      const conn = await connect(e, ctx)
      try {
        const { restored, replaced, expired } = await restoreKeys(conn, e, data, ctx)
        ctx.log(`restored ${keys(restored)}, ${replaced} of them over keys that already existed`)
        if (expired > 0) {
          ctx.log(
            `${keys(expired)} of the archive not restored: ${expired === 1 ? 'its' : 'their'} expiry time had passed (absolute_ttl)`,
          )
        }
      } catch (err) {
        if (ctx.signal.aborted) throw new PluginAbortedError()
        const premature = (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE'
        throw err === dataError || premature ? sourceError(err) : conn.explain(err)
      } finally {
        await conn.close()
      }
    } catch (err) {
      data.destroy() // stop the archive's producer; nothing more will be read
      throw err
    } finally {
      ctx.signal.removeEventListener('abort', abort)
      data.off('error', onDataError)
    }
  },

  async test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
    const e = parseEndpoint(endpoint)
    const conn = await connect(e, ctx)
    try {
      await conn.client.ping()
      const count = await conn.client.dbsize()
      const found = `connected to ${redisName(conn.version)}, db ${e.db} (${keys(count)})`
      if (e.mode === 'keys') return found
      const at = await locateRdb(conn, e)
      await checkHere(e, at, 'read')
      return `${found}; mode rdb: its RDB file ${at.path} is on this machine`
    } catch (err) {
      throw conn.explain(err)
    } finally {
      await conn.close()
    }
  },
})
