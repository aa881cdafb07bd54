// The source database's default character set and collation travel with the
// backup, so a restore into a database it creates gives that database the
// same defaults (and the routines it recreates, which take the database's
// collation, the same DATABASE_COLLATION). The dump names no database (see
// DUMP_FLAGS), so mysqldump's own CREATE DATABASE is not there to carry them:
// the backup starts with one SQL comment line of ours instead, which the
// client skips like any other comment. Archives made before it have none and
// restore as they always did (the new database gets the server's defaults).
import { Transform } from 'node:stream'

export interface DatabaseDefaults {
  charset: string
  collation: string
}

const PREFIX = '-- Bulwark database defaults: '
/** Charset and collation names are plain identifiers; anything else is not ours. */
const HEADER = /^-- Bulwark database defaults: CHARACTER SET (\w{1,64}) COLLATE (\w{1,64})\r?\n/
/** How far into the stream the header line can end. */
const HEAD_BYTES = 256

/** The first line of a backup. */
export const encodeDefaults = (d: DatabaseDefaults): Buffer =>
  Buffer.from(`${PREFIX}CHARACTER SET ${d.charset} COLLATE ${d.collation}\n`)

/** The defaults in the first line of a backup, or undefined when it has none (an older archive). */
export function decodeDefaults(head: Buffer): DatabaseDefaults | undefined {
  const m = HEADER.exec(head.subarray(0, HEAD_BYTES).toString('latin1'))
  return m ? { charset: m[1]!, collation: m[2]! } : undefined
}

/** Parses the rows of defaultsQuery: "charset\tcollation", or nothing when the database is not there. */
export function parseDefaults(out: string): DatabaseDefaults | undefined {
  const [charset = '', collation = ''] = out.trim().split('\t')
  const name = /^\w{1,64}$/
  return name.test(charset) && name.test(collation) ? { charset, collation } : undefined
}

/** A SELECT of the database's default charset and collation; `literal` quotes the name. */
export const defaultsQuery = (literal: string): string =>
  'SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA' +
  ` WHERE SCHEMA_NAME = ${literal}`

/** The header put in front of the dump: passes everything through, the header first. */
export function prepend(header: Buffer): Transform {
  let first = true
  const once = (t: Transform) => {
    if (first) t.push(header)
    first = false
  }
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      once(this)
      done(null, chunk)
    },
    flush(done) {
      once(this)
      done()
    },
  })
}

/**
 * Passes the restore's data through unchanged, and resolves `head` with its
 * defaults (or undefined) as soon as the first line is in, or the data ended
 * before one, without waiting for anyone to read: the database can be created
 * before the client starts taking the data.
 */
export function headReader(): { stream: Transform; head: Promise<DatabaseDefaults | undefined> } {
  let seen = Buffer.alloc(0)
  let resolve!: (d: DatabaseDefaults | undefined) => void
  let reject!: (err: Error) => void
  const head = new Promise<DatabaseDefaults | undefined>((res, rej) => {
    resolve = res
    reject = rej
  })
  head.catch(() => undefined) // observed by the caller; the stream reports the error too
  let settled = false
  const settle = () => {
    if (settled) return
    settled = true
    resolve(decodeDefaults(seen))
  }
  const stream = new Transform({
    // Room for the whole dump to wait in while the database is created: only the
    // first chunk matters, the rest waits in the source (backpressure).
    transform(chunk: Buffer, _enc, done) {
      if (!settled) {
        seen = Buffer.concat([seen, chunk.subarray(0, HEAD_BYTES)]).subarray(0, HEAD_BYTES)
        if (seen.includes(0x0a) || seen.length >= HEAD_BYTES) settle()
      }
      done(null, chunk)
    },
    flush(done) {
      settle()
      done()
    },
  })
  stream.once('error', (err) => {
    if (!settled) {
      settled = true
      reject(err)
    }
  })
  stream.once('close', () => {
    if (!settled) {
      settled = true
      reject(new Error('the data to restore ended before it began'))
    }
  })
  return { stream, head }
}
