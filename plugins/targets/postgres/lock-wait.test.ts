// A backup whose pg_dump waits for a lock says so in the task log: the table,
// the mode, and the session holding it; and when the lock is released, that
// data flows again. The wording is checked on its own, then against the real
// local PostgreSQL with a psql session holding ACCESS EXCLUSIVE on a table.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from '../../sdk/conformance/services'
import { PG, postgresAvailable } from '../../../test/helpers/services'
import type { TargetPlugin } from '../../sdk/types'
import postgresTarget from './index'
import { describeWait } from './waits'
import { waitFor } from '../../../test/helpers/wait'

const target = postgresTarget.plugin as TargetPlugin

describe('target postgres: describing what pg_dump waits for', () => {
  const lock = {
    type: 'relation',
    mode: 'AccessShareLock',
    kind: 'r',
    relation: 'public.orders',
  }
  it('names the table, the mode and who holds it', () => {
    expect(
      describeWait(
        {
          pid: 10,
          state: 'active',
          wait_type: 'Lock',
          wait: 'relation',
          lock,
          blockers: [
            {
              pid: 7,
              user: 'app',
              application: 'psql',
              client: '10.0.0.5',
              state: 'idle in transaction',
              xact_seconds: 42,
              modes: 'AccessExclusiveLock',
            },
          ],
        },
        false,
      ),
    ).toBe(
      ': it is waiting for a lock on table public.orders (AccessShareLock), held by pid 7 (user app, application psql, from 10.0.0.5, idle in transaction, in a transaction for 42 s, holding AccessExclusiveLock); the backup goes on once that is released',
    )
  })

  it('says what it can when the details are hidden or it is not a lock', () => {
    const hidden = { pid: 10, wait_type: 'Lock', lock, blockers: [{ pid: 7 }] }
    expect(describeWait(hidden, true)).toMatch(
      /on table public\.orders \(AccessShareLock\), held by pid 7;/,
    )
    expect(describeWait({ ...hidden, blockers: null }, false)).toMatch(/held by another session;/)
    const other = { pid: 10, state: 'active', wait_type: 'IO', wait: 'DataFileRead' }
    expect(describeWait(other, false)).toBe(
      ': its server process 10 is active, waiting on IO DataFileRead',
    )
    // Once data has flowed, only a lock wait is worth a line (a slow reader is not news).
    expect(describeWait(other, true)).toBeUndefined()
    expect(describeWait(null, false)).toBe(
      ' and has no session on the server yet (still connecting)',
    )
    expect(describeWait(null, true)).toBeUndefined()
  })
})

const up = postgresAvailable()

function psql(db: string, sql: string): string {
  const args = ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', db]
  return execFileSync('psql', [...args, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim()
}

describe.skipIf(!up)('target postgres: a backup waiting for a lock', () => {
  const db = `bulwark_t_${randomBytes(5).toString('hex')}`
  let holder: ChildProcess | undefined
  afterAll(() => {
    holder?.kill()
    psql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  })

  it('logs what it waits for and who holds it, then completes once released', async () => {
    psql('postgres', `CREATE DATABASE ${db}`)
    psql(db, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')")
    // A psql session that holds the lock until told to COMMIT on its stdin.
    holder = spawn(
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
        '-Xq',
        '-v',
        'ON_ERROR_STOP=1',
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    )
    holder.stdin!.write('BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n')
    const holderPid = await waitFor('the lock to be held', () => {
      const pid = psql(
        db,
        "SELECT pid FROM pg_locks WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock' AND granted",
      )
      return pid || undefined
    })

    const ctx = testContext()
    const started = Date.now()
    const data = readAll(await target.backup({ ...PG, password: '', database: db }, ctx))
    const line = await waitFor('the wait to be logged', () =>
      ctx.lines.find((l) => l.startsWith('pg_dump has sent nothing')),
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000)
    expect(line).toMatch(
      new RegExp(
        `^pg_dump has sent nothing for [5-9] s: it is waiting for a lock on table public\\.t \\(AccessShareLock\\), held by pid ${holderPid} \\(user postgres, application psql, (from 127\\.0\\.0\\.1, )?idle in transaction, in a transaction for \\d+ s, holding AccessExclusiveLock\\); the backup goes on once that is released$`,
      ),
    )

    holder.stdin!.end('COMMIT;\n')
    const dump = await data
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP')
    expect(ctx.lines.some((l) => /^pg_dump is sending data again after \d+ s$/.test(l))).toBe(true)
    expect(ctx.lines.filter((l) => l.startsWith('pg_dump has sent nothing'))).toHaveLength(1)
  }, 60_000)
})
