// Runs the SQLite work of the `sqlite` target in a worker thread. better-sqlite3
// is synchronous: an integrity check of a large file or a busy-timeout wait
// would otherwise freeze the daemon's event loop (and its API) for as long as
// it takes. The worker's code is plain JavaScript evaluated from a string, so
// it needs no build step or loader in tests, in the daemon or in a bundle.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { PluginAbortedError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'

/** What `describe`, `backup` and `verify` report about a database. */
export interface DbInfo {
  version: string
  tables: number
  bytes: number
  journalMode: string
}

/** An error from the worker, with SQLite's code (SQLITE_BUSY, ...) or one of ours (BULWARK_*). */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
    this.name = 'SqliteError'
  }
}

export const BUSY_TIMEOUT_MS = 5000
/** How long a restore waits for a lock before it calls the database in use. */
export const LOCK_TIMEOUT_MS = 1500

const SOURCE = String.raw`
'use strict'
const { workerData: w, parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
const Database = require(w.driver)

const fail = (code, message) => Object.assign(new Error(message), { code })
const inUse = () => fail('BULWARK_IN_USE', 'the database is in use')
const open = (file, opts) => new Database(file, { fileMustExist: true, timeout: w.timeout, ...opts })

function describe(db) {
  const one = (sql) => Object.values(db.prepare(sql).get())[0]
  return {
    version: one('SELECT sqlite_version()'),
    tables: one("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"),
    bytes: one('PRAGMA page_count') * one('PRAGMA page_size'),
    journalMode: one('PRAGMA journal_mode'),
  }
}

function check(db) {
  const found = db.pragma('integrity_check').map((row) => Object.values(row)[0])
  if (found.length !== 1 || found[0] !== 'ok') {
    throw fail('BULWARK_CORRUPT', 'integrity_check found: ' + found.slice(0, 3).join('; '))
  }
}

// Takes the database exclusively, or says it is in use. In WAL mode every open
// connection holds a shared lock on the file for as long as it is open, so an
// idle application is noticed too; in rollback-journal mode only a running
// transaction is. In exclusive locking mode the lock stays until close.
function lock(file) {
  const db = open(file, { timeout: w.lockTimeout })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
    return db
  } catch (err) {
    db.close()
    throw /^SQLITE_(BUSY|LOCKED)/.test(err.code) ? inUse() : err
  }
}

function removeIfThere(file) {
  try { fs.unlinkSync(file) } catch (err) { if (err.code !== 'ENOENT') throw err }
}

function syncDir(dir) {
  const fd = fs.openSync(dir, 'r')
  try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
}

const tasks = {
  describe() {
    const db = open(w.file, { readonly: true })
    try { return describe(db) } finally { db.close() }
  },

  // A read transaction held over the whole copy pins one snapshot: writers in
  // other processes neither restart the copy nor leak into it.
  async backup() {
    const src = open(w.file, { readonly: true })
    try {
      src.exec('BEGIN')
      describe(src)
      await src.backup(w.dest, { progress: () => 1024 })
      src.exec('COMMIT')
    } finally {
      src.close()
    }
    return tasks.verify(w.dest)
  },

  // Read-write on a private file: closing it removes the -wal and -shm it makes.
  verify(file = w.file) {
    const db = open(file, {})
    try {
      check(db)
      return describe(db)
    } finally {
      db.close()
    }
  },

  probe() {
    lock(w.file).close()
    return null
  },

  // Replaces w.file with w.temp. An old database is first taken exclusively and
  // moved out of WAL mode (checkpoint, -wal removed) and closed; then taken
  // again, and held while stale -wal/-shm files are removed and the new file is
  // renamed over it, so no one can open the old file in between, and no old
  // -wal or hot journal can ever be applied to the new one.
  swap() {
    if (fs.existsSync(w.file)) {
      const first = lock(w.file)
      try {
        if (describe(first).journalMode === 'wal') first.pragma('journal_mode = DELETE')
      } finally {
        first.close()
      }
      const db = lock(w.file)
      try {
        if (describe(db).journalMode === 'wal') throw inUse()
        removeIfThere(w.file + '-wal')
        removeIfThere(w.file + '-shm')
        fs.renameSync(w.temp, w.file)
        syncDir(path.dirname(w.file))
      } finally {
        db.close()
      }
    } else {
      for (const suffix of ['-wal', '-shm', '-journal']) removeIfThere(w.file + suffix)
      fs.renameSync(w.temp, w.file)
      syncDir(path.dirname(w.file))
    }
    return null
  },
}

Promise.resolve()
  .then(() => tasks[w.task]())
  .then(
    (result) => parentPort.postMessage({ ok: true, result }),
    (err) => parentPort.postMessage({ ok: false, code: String(err.code || err.name), message: String(err.message) }),
  )
`

const driver = createRequire(import.meta.url).resolve('better-sqlite3')

export type Task = 'describe' | 'backup' | 'verify' | 'probe' | 'swap'

interface Reply {
  ok: boolean
  result?: unknown
  code?: string
  message?: string
}

/**
 * Runs one task in a fresh worker. Abort terminates the worker, which takes
 * effect between two SQLite steps (a single integrity check runs to its end);
 * the promise settles only once the worker is gone, so its files are closed.
 * `swap` is short and is never interrupted half-way.
 */
export function runTask<T>(
  task: Task,
  data: Record<string, string>,
  ctx: PluginContext,
): Promise<T> {
  if (ctx.signal.aborted) return Promise.reject(new PluginAbortedError())
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(SOURCE, {
      eval: true,
      workerData: { ...data, task, driver, timeout: BUSY_TIMEOUT_MS, lockTimeout: LOCK_TIMEOUT_MS },
    })
    let outcome: (() => void) | undefined
    const onAbort = () => {
      outcome ??= () => reject(new PluginAbortedError())
      void worker.terminate()
    }
    if (task !== 'swap') ctx.signal.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (reply: Reply) => {
      outcome ??= reply.ok
        ? () => resolve(reply.result as T)
        : () => reject(new SqliteError(reply.message ?? 'unknown error', reply.code ?? 'UNKNOWN'))
    })
    worker.once('error', (err) => {
      outcome ??= () => reject(err)
    })
    worker.once('exit', (code) => {
      ctx.signal.removeEventListener('abort', onAbort)
      ;(
        outcome ??
        (() => reject(new Error(`the SQLite worker stopped unexpectedly (exit code ${code})`)))
      )()
    })
  })
}
