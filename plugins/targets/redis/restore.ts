// The redis target's restore: read the framed archive (format.ts) as it
// streams in and RESTORE ... REPLACE each key in pipelined batches, one batch
// in flight while the next is read. Nothing is flushed: keys in the archive
// replace keys of the same name, every other key is left as it is. A key's
// TTL counts again from the restore, or, with absolute_ttl, the key expires
// at the time it would have expired in the backed-up db (RESTORE ... ABSTTL);
// one whose time has passed is not restored.
import type { Readable } from 'node:stream'
import { PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import { redisName, UNKNOWN, where, type Connection, type RedisEndpoint } from './client'
import { corrupt, openArchive, type DumpRecord } from './format'

const BATCH_BYTES = 8 * 1024 * 1024
const BATCH_KEYS = 500

/** -1 when a is older than b, 0 when equal, 1 when newer ("7.2.4" style). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0)
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

const printable = (key: Buffer): string => {
  const text = key.toString('utf8')
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}

interface Versions {
  archive: string
  server: string
}

/** Why RESTORE refused a key, in words that say what to do. */
function refused(e: RedisEndpoint, v: Versions, key: Buffer, err: Error): Error {
  const name = printable(key)
  if (/payload version or checksum are wrong/.test(err.message)) {
    const [server, archive] = [redisName(v.server), redisName(v.archive)]
    if (v.server === UNKNOWN || v.archive === UNKNOWN) {
      return new PluginError(
        `${server} at ${where(e)} cannot load the data of key ${name}: it was dumped by ` +
          `${archive}, which may be newer, or the archive is damaged`,
      )
    }
    if (compareVersions(v.archive, v.server) > 0) {
      return new PluginError(
        `${server} at ${where(e)} cannot load data dumped by the newer ${archive} ` +
          `(key ${name}); restore into ${archive} or later`,
      )
    }
    return corrupt(`${server} rejected the data of key ${name} (bad checksum)`)
  }
  if (/Bad data format/.test(err.message)) {
    return corrupt(`${redisName(v.server)} rejected the data of key ${name} as malformed`)
  }
  if (/^OOM/.test(err.message)) {
    return new PluginError(
      `Redis at ${where(e)} ran out of memory (maxmemory) while restoring key ${name}`,
    )
  }
  return err
}

export interface RestoreResult {
  restored: number
  replaced: number
  /** With absolute_ttl: keys whose original expiry time had passed, so not restored. */
  expired: number
}

/** RESTORE ... ABSTTL came with Redis 5.0. */
const ABSTTL_SINCE = '5.0.0'

/** Restores every record of the archive; rejects on truncation, corruption or a refused key. */
export async function restoreKeys(
  conn: Connection,
  e: RedisEndpoint,
  data: Readable,
  ctx: PluginContext,
): Promise<RestoreResult> {
  const archive = await openArchive(data)
  const versions = { archive: archive.redisVersion, server: conn.version }
  const before = await conn.client.dbsize()
  ctx.log(
    `db ${e.db} of ${redisName(conn.version)} at ${where(e)} holds ${before} keys before the restore; ` +
      'keys in the archive replace keys of the same name, all other keys are left as they are',
  )
  ctx.log(`the archive was made from ${redisName(archive.redisVersion)}`)
  const absolute = e.absoluteTtl && archive.format >= 2
  if (e.absoluteTtl && !absolute) {
    ctx.log(
      'absolute_ttl is on, but the archive was made by an older Bulwark and records only the TTL ' +
        'each key had left at the backup: those TTLs count from the restore',
    )
  } else if (absolute) {
    if (conn.version !== UNKNOWN && compareVersions(conn.version, ABSTTL_SINCE) < 0) {
      throw new PluginError(
        `${redisName(conn.version)} at ${where(e)} cannot set absolute expiry times ` +
          '(RESTORE ... ABSTTL needs Redis 5.0); turn absolute_ttl off to restore with the TTLs counting from now',
      )
    }
    ctx.log(
      'absolute_ttl: keys expire when they would have in the backed-up db; ' +
        'keys whose expiry time has passed are not restored',
    )
  }

  const result: RestoreResult = { restored: 0, replaced: 0, expired: 0 }
  const send = async (batch: DumpRecord[]) => {
    const pipe = conn.client.pipeline()
    // Per record: EXISTS, RESTORE and, for an absolute expiry, EXISTS again
    // (RESTORE ... ABSTTL of a key whose time has passed answers OK and
    // creates nothing).
    const checked = batch.map((r) => absolute && r.expireAt !== undefined && r.expireAt > 0)
    batch.forEach((r, i) => {
      pipe.exists(r.key)
      if (checked[i]) {
        pipe.restore(r.key, r.expireAt!, r.payload, 'REPLACE', 'ABSTTL').exists(r.key)
      } else {
        // The TTL left at backup time counts again from now; 0 means none.
        pipe.restore(r.key, r.pttl < 0 ? 0 : r.pttl, r.payload, 'REPLACE')
      }
    })
    const replies = (await pipe.exec()) ?? []
    let at = 0
    batch.forEach((r, i) => {
      const [existsErr, existed] = replies[at++] ?? [new Error('no reply to EXISTS'), 0]
      const [restoreErr] = replies[at++] ?? [new Error('no reply to RESTORE')]
      const [afterErr, there] = checked[i]
        ? (replies[at++] ?? [new Error('no reply to EXISTS'), 0])
        : [null, 1]
      if (restoreErr) throw refused(e, versions, r.key, restoreErr)
      if (existsErr) throw existsErr
      if (afterErr) throw afterErr
      if (there !== 1) {
        result.expired++
        return
      }
      result.restored++
      if (existed === 1) result.replaced++
    })
  }

  let inFlight: Promise<void> = Promise.resolve()
  let batch: DumpRecord[] = []
  let bytes = 0
  try {
    try {
      for await (const r of archive.records()) {
        batch.push(r)
        bytes += r.key.length + r.payload.length
        if (batch.length >= BATCH_KEYS || bytes >= BATCH_BYTES) {
          await inFlight
          inFlight = send(batch)
          inFlight.catch(() => undefined) // awaited before the next batch or at the end
          batch = []
          bytes = 0
        }
      }
    } finally {
      await inFlight.catch(() => undefined) // settle it, whatever ended the reading
    }
    await inFlight
    await send(batch)
    return result
  } catch (err) {
    ctx.log(`the restore stopped after restoring ${result.restored} keys of the archive`)
    throw err
  }
}
