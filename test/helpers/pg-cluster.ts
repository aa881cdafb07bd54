// A throwaway PostgreSQL cluster for tests that need password authentication:
// the machine's own server trusts every local connection, so a wrong password
// could never be refused there. initdb makes a cluster in a temp dir whose
// pg_hba.conf requires SCRAM-SHA-256 for every TCP connection (the local
// socket, used only by the test itself to set things up, is trusted), on a
// free port, with one role that has a password. Root may not run a server, so
// as root the cluster belongs to (and runs as) the postgres user.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './wait'
import { canRun } from './skip'

/** The bin directory of the newest PostgreSQL server installed (Debian keeps them out of PATH). */
function serverBin(): string | null {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  return versions[0] ? join(root, versions[0], 'bin') : null
}

const runsAsRoot = process.getuid?.() === 0

/** Whether a cluster can be made here; under CI=true its absence fails the run. */
export function pgClusterAvailable(): boolean {
  const bin = serverBin()
  let missing: string | null = bin ? null : 'initdb and pg_ctl (/usr/lib/postgresql/*/bin)'
  if (!missing && runsAsRoot) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' })
    } catch {
      missing = 'a postgres user to run a throwaway cluster as (root may not)'
    }
  }
  return canRun(missing, 'apt-get install postgresql')
}

export interface PgCluster {
  host: '127.0.0.1'
  port: number
  /** A role that logs in with `password` (SCRAM-SHA-256) and owns database `database`. */
  user: string
  password: string
  database: string
  /** The directory of the server's socket, where the superuser postgres is trusted. */
  socket: string
  /** Runs SQL as the superuser over the trusted local socket; the output, trimmed. */
  psql(db: string, sql: string): string
  stop(): void
}

/** Initialises and starts a cluster; call stop() in afterAll. */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = serverBin()
  if (!bin) throw new Error('no initdb under /usr/lib/postgresql/*/bin')
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-pg-'))
  const data = join(dir, 'data')
  // As root, everything runs as postgres, which must own the directory.
  const as = (cmd: string, args: string[]) =>
    runsAsRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], {
          encoding: 'utf8',
          stdio: 'pipe',
        })
      : execFileSync(join(bin, cmd), args, { encoding: 'utf8', stdio: 'pipe' })
  if (runsAsRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
    chownSync(dir, uid, gid)
  }
  const port = await freePort()
  as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  appendFileSync(
    join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      `password_encryption = 'scram-sha-256'`,
      'fsync = off', // a throwaway: nothing here must survive a crash
      '',
    ].join('\n'),
  )
  // First match wins: the socket is trusted (setup only), TCP needs SCRAM.
  writeFileSync(
    join(data, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
  )
  as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'])
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    try {
      as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const psql = (db: string, sql: string) =>
    execFileSync(
      'psql',
      ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-XAtq', '-v', 'ON_ERROR_STOP=1'],
      { input: sql, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    ).trim()
  try {
    const user = `bulwark_${randomBytes(4).toString('hex')}`
    // Quotes and a backslash: the password must reach libpq intact.
    const password = `s'c"r\\m-${randomBytes(9).toString('base64url')}`
    const database = `${user}_db`
    psql(
      'postgres',
      `CREATE ROLE ${user} LOGIN CREATEDB PASSWORD '${password.replace(/'/g, "''")}'`,
    )
    psql('postgres', `CREATE DATABASE ${database} OWNER ${user}`)
    return { host: '127.0.0.1', port, user, password, database, socket: dir, psql, stop }
  } catch (err) {
    stop()
    throw err
  }
}
