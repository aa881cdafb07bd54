// Where an rdb-mode target finds the server's RDB file, and what makes bytes
// an RDB file: CONFIG GET dir + dbfilename (or the endpoint's rdb_path when
// CONFIG is renamed or denied), the check that the file is on this machine
// (it is on the Redis server's host: the target runs there through an agent),
// and the "REDIS" + 4-digit header and the EOF opcode before the 8-byte
// checksum that every RDB file of format 5 or later ends with.
import { constants } from 'node:fs'
import { access, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PluginError } from '../../sdk/errors'
import { where, type Connection, type RedisEndpoint } from './client'

export interface RdbLocation {
  /** The directory Redis saves into (and loads from at start). */
  dir: string
  /** The file's name in it (dbfilename). */
  name: string
  path: string
}

const HEADER = /^REDIS(\d{4})$/
/** "REDIS0010" */
const HEADER_LENGTH = 9
/** The EOF opcode and the CRC64 after it. */
const TRAILER_LENGTH = 9
/** Enough to tell a mode keys archive ("BULWARK-REDIS") too. */
const HEAD_READ = 16
const EOF_OPCODE = 0xff

const config = async (conn: Connection, name: string): Promise<string> => {
  const reply = (await conn.client.config('GET', name)) as string[]
  if (reply.length < 2) throw new Error(`CONFIG GET ${name} returned nothing`)
  return reply[1]!
}

/** The RDB file this server loads at start and BGSAVE writes. */
export async function locateRdb(conn: Connection, e: RedisEndpoint): Promise<RdbLocation> {
  let asked: string | undefined
  let failed: string | undefined
  try {
    asked = join(await config(conn, 'dir'), await config(conn, 'dbfilename'))
  } catch (err) {
    failed = (err as Error).message
  }
  if (e.rdbPath) {
    if (asked !== undefined && asked !== e.rdbPath) {
      throw new PluginError(
        `rdb_path is ${e.rdbPath}, but Redis at ${where(e)} saves to and loads from ${asked} ` +
          '(CONFIG GET dir and dbfilename); correct rdb_path or leave it empty',
      )
    }
    return { dir: dirname(e.rdbPath), name: basename(e.rdbPath), path: e.rdbPath }
  }
  if (asked === undefined) {
    throw new PluginError(
      `could not ask Redis at ${where(e)} where its RDB file is (CONFIG GET dir: ${failed}); ` +
        'CONFIG may be renamed, disabled or not allowed for this user: set rdb_path to the full path of its RDB file',
    )
  }
  return { dir: dirname(asked), name: basename(asked), path: asked }
}

const elsewhere = (e: RedisEndpoint, path: string) =>
  new PluginError(
    `the RDB file ${path} of Redis at ${where(e)} is not on this machine: it is on the Redis ` +
      "server's host, so mode rdb must run there: give the target that host's agent (its agent field)",
  )

/** Checks the RDB's directory (and the file, when `mustExist`) can be reached here. */
export async function checkHere(
  e: RedisEndpoint,
  at: RdbLocation,
  want: 'read' | 'write',
): Promise<void> {
  const dir = await stat(at.dir).catch(() => undefined)
  if (!dir?.isDirectory()) throw elsewhere(e, at.path)
  const [path, mode, what] =
    want === 'read'
      ? [at.path, constants.R_OK, 'read']
      : [at.dir, constants.W_OK | constants.X_OK, 'write in']
  try {
    await access(path, mode)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return // no file yet: the BGSAVE makes one
    throw new PluginError(
      `cannot ${what} ${path} (${code}): run the target as a user that may ${what} Redis's files ` +
        '(the redis user, or one in its group)',
    )
  }
}

/** The RDB format version of a file that starts with `head`, or a reason it is not an RDB file. */
function rdbVersion(head: Buffer): number | string {
  const m = HEADER.exec(head.subarray(0, HEADER_LENGTH).toString('latin1'))
  if (!m) {
    if (head.subarray(0, 13).toString('latin1') === 'BULWARK-REDIS') {
      return 'it is an archive of mode keys (SCAN + DUMP): restore it with a target whose mode is keys'
    }
    return 'it does not start with "REDIS" and a 4-digit version, as an RDB file does'
  }
  return Number(m[1])
}

/** Why the last bytes do not end an RDB file, or undefined when they do. */
function badTrailer(size: number, trailer: Buffer): string | undefined {
  if (size < HEADER_LENGTH + TRAILER_LENGTH) return `it is only ${size} bytes long`
  if (trailer[0] !== EOF_OPCODE) return 'it does not end with the end-of-file mark: it is truncated'
  return undefined
}

export type RdbCheck =
  { size: number; version: number; bad?: undefined } | { size: number; bad: string }

/** Whether the open file is a whole RDB file: its header, and the end-of-file mark before the checksum. */
export async function inspectRdb(fh: FileHandle): Promise<RdbCheck> {
  const { size } = await fh.stat()
  const head = Buffer.alloc(HEAD_READ)
  const trailer = Buffer.alloc(TRAILER_LENGTH)
  const { bytesRead } = await fh.read(head, 0, HEAD_READ, 0)
  await fh.read(trailer, 0, TRAILER_LENGTH, Math.max(0, size - TRAILER_LENGTH))
  const version = rdbVersion(head.subarray(0, bytesRead))
  if (typeof version === 'string') return { size, bad: version }
  const bad = badTrailer(size, trailer)
  return bad ? { size, bad } : { size, version }
}

/** RDB format versions each Redis release writes (and, at most, reads). */
const RDB_OF_REDIS: [string, number][] = [
  ['7.4', 12],
  ['7.2', 11],
  ['7.0', 10],
  ['5.0', 9],
  ['4.0', 8],
  ['3.2', 7],
]

/** The newest RDB format a Redis version loads, or undefined when unknown (too old or too new to tell). */
export function newestRdbFor(version: string): number | undefined {
  const [major, minor] = version.split('.').map((x) => parseInt(x, 10))
  if (major === undefined || minor === undefined || Number.isNaN(major)) return undefined
  if (major >= 8) return undefined
  for (const [since, rdb] of RDB_OF_REDIS) {
    const [sMajor, sMinor] = since.split('.').map(Number) as [number, number]
    if (major > sMajor || (major === sMajor && minor >= sMinor)) return rdb
  }
  return undefined
}
