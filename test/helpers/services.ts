// Access to the real data services on the machine. A test that needs one that
// is missing skips with a message outside CI and fails under CI=true.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' }

function probe(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/** True when PostgreSQL answers; under CI its absence is an error, not a skip. */
export function postgresAvailable(): boolean {
  const up = probe('pg_isready', ['-q', '-h', PG.host, '-p', String(PG.port)])
  if (!up && process.env.CI)
    throw new Error('CI=true but PostgreSQL is not answering on 127.0.0.1:5432')
  if (!up)
    console.warn('skipping PostgreSQL tests: no server on 127.0.0.1:5432 (start one to run them)')
  return up
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
  if (!up && process.env.CI)
    throw new Error('CI=true but MariaDB is not answering on 127.0.0.1:3306')
  if (!up) console.warn('skipping MariaDB tests: no server on 127.0.0.1:3306')
  return up
}

export function redisAvailable(): boolean {
  const up = probe('redis-cli', ['-h', '127.0.0.1', 'ping'])
  if (!up && process.env.CI) throw new Error('CI=true but Redis is not answering on 127.0.0.1:6379')
  if (!up) console.warn('skipping Redis tests: no server on 127.0.0.1:6379')
  return up
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
 * gnome-keyring-daemon, secret-tool) and @napi-rs/keyring loads; under CI a missing one
 * is an error, not a skip.
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
  if (missing.length === 0) return true
  const what = missing.join(', ')
  if (process.env.CI)
    throw new Error(
      `CI=true but ${what} is missing (apt-get install gnome-keyring dbus-x11 libsecret-tools, then npm ci)`,
    )
  console.warn(`skipping keychain tests: ${what} is missing`)
  return false
}
