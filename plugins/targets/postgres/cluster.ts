// `all_databases`: a whole server as one archive. The stream is a small framed
// container: the globals (roles, tablespaces) from `pg_dumpall --globals-only`,
// then one `pg_dump -Fc -Z0` per database, each split into length-prefixed
// blocks, then an end marker with the database count, so a truncated archive
// is detected. Restores recreate missing roles (idempotently) and restore each
// database the way a single-database restore does.
import { PassThrough, Readable } from 'node:stream'
import { ByteReader } from '../../sdk/bytes'
import { PluginError } from '../../sdk/errors'
import { spawnOutput } from '../../sdk/process'
import type { PluginContext } from '../../sdk/types'
import type { PgTarget } from './explain'

const MAGIC = 'BULWARK-PGCLUSTER 1\n'
const GLOBALS = 0x47 // 'G'
const DATABASE = 0x44 // 'D'
const END = 0x45 // 'E'

export interface ClusterTools {
  /** Names of the databases to dump, in order. */
  databases(ctx: PluginContext): Promise<string[]>
  globalsArgs: () => string[]
  dumpArgs: (database: string) => string[]
  /** pg_dump of one database (custom format); without it, pg_dump with dumpArgs. */
  dump?: (database: string, ctx: PluginContext) => Readable
  toolOptions: (tool: string, database?: string) => Parameters<typeof spawnOutput>[3]
  /** Restores one database from a pg_dump custom-format stream. */
  restoreDatabase(database: string, data: Readable, ctx: PluginContext): Promise<void>
  /** Runs SQL (the globals) on the maintenance database. */
  runSql(sql: string, ctx: PluginContext): Promise<void>
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

function header(type: number, name: string): Buffer {
  const text = Buffer.from(name)
  const len = Buffer.alloc(2)
  len.writeUInt16BE(text.length)
  return Buffer.concat([Buffer.from([type]), len, text])
}

async function* framed(source: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buf = chunk as Buffer
    if (buf.length > 0) yield Buffer.concat([u32(buf.length), buf])
  }
  yield u32(0)
}

export function backupCluster(t: PgTarget, tools: ClusterTools, ctx: PluginContext): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(MAGIC)
    yield header(GLOBALS, '')
    yield* framed(
      spawnOutput('pg_dumpall', tools.globalsArgs(), ctx, tools.toolOptions('pg_dumpall')),
    )
    const databases = await tools.databases(ctx)
    ctx.log(
      `backing up ${databases.length} database(s) of ${t.host}:${t.port}: ${databases.join(', ')}`,
    )
    for (const db of databases) {
      yield header(DATABASE, db)
      yield* framed(
        tools.dump?.(db, ctx) ??
          spawnOutput('pg_dump', tools.dumpArgs(db), ctx, tools.toolOptions('pg_dump', db)),
      )
    }
    yield Buffer.concat([Buffer.from([END]), u32(databases.length)])
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 1024 * 1024 })
}

/** Makes `CREATE ROLE x;` succeed when x exists, so globals apply to a server that has some roles. */
export function idempotentGlobals(sql: string): string {
  return sql.replace(
    /^CREATE ROLE ((?:"(?:[^"]|"")+")|[a-z_][a-z0-9_$]*);$/gm,
    (_all, role: string) =>
      `DO $bulwark$ BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object THEN NULL; END $bulwark$;`,
  )
}

async function pumpBlocks(reader: ByteReader, into: PassThrough): Promise<void> {
  for (;;) {
    const len = (await reader.exact(4)).readUInt32BE(0)
    if (len === 0) break
    const block = Buffer.from(await reader.exact(len))
    if (!into.write(block)) await new Promise((r) => into.once('drain', r))
  }
  into.end()
}

export async function restoreCluster(
  data: Readable,
  tools: ClusterTools,
  ctx: PluginContext,
): Promise<void> {
  const reader = new ByteReader(
    data,
    () => new PluginError('the archive is truncated: it ends in the middle of a database'),
  )
  const magic = await reader.exact(MAGIC.length).catch(() => Buffer.alloc(0))
  if (magic.toString() !== MAGIC) {
    throw new PluginError(
      'this archive is not a whole-server PostgreSQL backup (all_databases); restore it into a target without all_databases',
    )
  }
  let restored = 0
  for (;;) {
    const type = (await reader.exact(1))[0]
    if (type === END) {
      const count = (await reader.exact(4)).readUInt32BE(0)
      if (count !== restored)
        throw new PluginError(
          `the archive is corrupt: it lists ${count} databases but holds ${restored}`,
        )
      if (!(await reader.atEnd()))
        throw new PluginError('the archive is corrupt: data after its end marker')
      ctx.log(`restored the globals and ${restored} database(s)`)
      return
    }
    const name = (await reader.exact((await reader.exact(2)).readUInt16BE(0))).toString()
    if (type === GLOBALS) {
      const sql = new PassThrough()
      const text = (async () => {
        let s = ''
        for await (const c of sql) s += String(c)
        return s
      })()
      await pumpBlocks(reader, sql)
      await tools.runSql(idempotentGlobals(await text), ctx)
      ctx.log('restored roles and tablespaces')
    } else if (type === DATABASE) {
      const pass = new PassThrough({ highWaterMark: 1024 * 1024 })
      // Its failure reaches the restore through pass.errored (checked when it starts
      // reading) and Promise.all below; without a listener an early one would crash.
      pass.on('error', () => undefined)
      const restoring = tools.restoreDatabase(name, pass, ctx)
      const pumping = pumpBlocks(reader, pass).catch((err: Error) => {
        pass.destroy(err)
        throw err
      })
      await Promise.all([restoring, pumping])
      restored++
      ctx.log(`restored database ${name}`)
    } else {
      throw new PluginError(`the archive is corrupt: unknown section type ${type}`)
    }
  }
}

/** Glob (* and ?) to an anchored RegExp. */
export function globMatcher(patterns: string[]): (name: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        '^' +
          p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.') +
          '$',
      ),
  )
  return (name) => res.some((r) => r.test(name))
}
