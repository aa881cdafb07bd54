// Access to the real data services on the machine. A test that needs one that
// is missing skips with a message outside CI and fails under CI=true
// (test/helpers/skip.ts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { canRun } from './skip'

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' }

function probe(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/** True when PostgreSQL answers and its client tools run; see canRun for CI. */
export function postgresAvailable(): boolean {
  const tools = ['pg_dump', 'pg_restore', 'psql'].filter((t) => !probe(t, ['--version']))
  if (tools.length > 0)
    return canRun(`PostgreSQL's ${tools.join(', ')}`, 'apt-get install postgresql-client')
  const up = probe('pg_isready', ['-q', '-h', PG.host, '-p', String(PG.port)])
  return canRun(
    up ? null : `a PostgreSQL server on ${PG.host}:${PG.port}`,
    'apt-get install postgresql, then start it with trust for user postgres on 127.0.0.1',
  )
}

/** True when `cmd args` runs; see canRun for CI. */
export function toolAvailable(cmd: string, args = ['--version'], how?: string): boolean {
  return canRun(probe(cmd, args) ? null : `${cmd} (${[cmd, ...args].join(' ')} fails)`, how)
}

export function psql(db: string, sql: string): string {
  return execFileSync(
    'psql',
    [
      '-h',
      PG.host,
      '-p',
      String(PG.port),
      '-U',
      PG.user,
      '-d',
      db,
      '-v',
      'ON_ERROR_STOP=1',
      '-AtXq',
      '-c',
      sql,
    ],
    {
      encoding: 'utf8',
    },
  ).trim()
}

export function randomDbName(prefix = 'bulwark_t'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

export function createDb(name: string): void {
  psql('postgres', `CREATE DATABASE ${name}`)
}

export function dropDb(name: string): void {
  psql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
}

/** Holds an exclusive lock on a table so pg_dump blocks: a backup that stays running. */
export function holdTableLock(db: string, table: string, seconds = 60): ChildProcess {
  return spawn(
    'psql',
    [
      '-h',
      PG.host,
      '-U',
      PG.user,
      '-d',
      db,
      '-c',
      `BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(${seconds});`,
    ],
    { stdio: 'ignore' },
  )
}

export function mariadbAvailable(): boolean {
  const up = probe('mysql', ['-h', '127.0.0.1', '-uroot', '-e', 'SELECT 1'])
  return canRun(
    up ? null : 'a MariaDB server on 127.0.0.1:3306 (root without a password)',
    'apt-get install mariadb-server mariadb-client and start it',
  )
}

export function redisAvailable(): boolean {
  const up = probe('redis-cli', ['-h', '127.0.0.1', 'ping'])
  return canRun(
    up ? null : 'a Redis server on 127.0.0.1:6379',
    'apt-get install redis-server and start it',
  )
}

export function mysql(sql: string, db?: string): string {
  return execFileSync(
    'mysql',
    ['-h', '127.0.0.1', '-uroot', '-N', '-B', ...(db ? [db] : []), '-e', sql],
    {
      encoding: 'utf8',
    },
  ).trim()
}

export function redis(db: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-n', String(db), ...args], {
    encoding: 'utf8',
  }).trim()
}

/**
 * True when a throwaway Secret Service can be run (dbus-run-session,
 * gnome-keyring-daemon, secret-tool) and @napi-rs/keyring loads; see canRun for CI.
 */
export async function keychainAvailable(): Promise<boolean> {
  const missing = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool'].filter(
    (tool) => !probe('sh', ['-c', `command -v ${tool}`]),
  )
  try {
    await import('@napi-rs/keyring' as string)
  } catch (err) {
    missing.push(`the @napi-rs/keyring module (${(err as Error).message.split('\n')[0]})`)
  }
  return canRun(
    missing.length === 0 ? null : missing.join(', '),
    'apt-get install gnome-keyring dbus-x11 libsecret-tools, then npm ci',
  )
}
