// Over ~300 lines on purpose: taking, holding (heartbeat), listing and breaking a lock share its record format and staleness rule.
// Locks that live in the store itself (locks/<id>), so that every writer of
// one vault — this daemon, another daemon on the same store, later a remote
// agent — sees them, whatever catalog it has. The model is restic's: GC,
// rescan and import take an exclusive lock; backups, restores and verifies a
// shared one. A lock carries a lease: its holder rewrites it (a heartbeat)
// every third of the lease, and one not refreshed for longer than the lease,
// or whose process on this host is gone, is stale and is broken by the next
// taker. Losing a lock (it was broken, or cannot be refreshed) aborts the
// holder's work, since what it protects can no longer be promised.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { isAlive } from '../platform/lock'
import { fetchObject } from './fetch'
import { VaultError } from './objects'

export const LOCK_PREFIX = 'locks/'
const LOCK_KEY = /^locks\/([0-9a-f]{32})$/
/** A lock object is a few hundred bytes; anything bigger is not one. */
const MAX_LOCK_BYTES = 64 * 1024

export interface LockRecord {
  format: 'bulwark-lock'
  version: 1
  id: string
  exclusive: boolean
  operation: string
  host: string
  pid: number
  /** This process's random instance id: a lock with our pid but another instance is a dead one's. */
  instance: string
  /** The data directory of the daemon that holds it. */
  daemon: string
  created_at: string
  refreshed_at: string
  lease_ms: number
}

export interface LockView extends LockRecord {
  stale: boolean
  ours: boolean
}

/** Who we are, once per process. */
const INSTANCE = randomBytes(8).toString('hex')

export interface LockOptions {
  store: StorePlugin
  endpoint: Endpoint
  ctx: PluginContext
  exclusive: boolean
  operation: string
  /** The data directory of this daemon (shown to people, and to tell our locks apart). */
  daemon: string
  now: () => number
  /** How long a lock lives without a refresh. */
  leaseMs: number
  /** How long to wait for a conflicting lock to go away before failing. */
  waitMs: number
}

export class StoreLockedError extends Error {
  constructor(
    message: string,
    readonly holder: LockView,
  ) {
    super(message)
    this.name = 'StoreLockedError'
  }
}

/** Whether a lock can be broken: its lease ran out, or its holder on this host is gone. */
export function isStale(lock: LockRecord, now: number): boolean {
  if (now - Date.parse(lock.refreshed_at) > lock.lease_ms) return true
  if (lock.host !== hostname()) return false
  if (lock.pid === process.pid) return lock.instance !== INSTANCE
  return !isAlive(lock.pid)
}

function parseLock(id: string, text: string): LockRecord | null {
  try {
    const x = JSON.parse(text) as Partial<LockRecord>
    if (x.format !== 'bulwark-lock' || x.id !== id || typeof x.exclusive !== 'boolean') return null
    if (typeof x.refreshed_at !== 'string' || typeof x.lease_ms !== 'number') return null
    return x as LockRecord
  } catch {
    return null
  }
}

async function readText(store: StorePlugin, ep: Endpoint, key: string, ctx: PluginContext) {
  try {
    return (await fetchObject(store, ep, key, ctx, MAX_LOCK_BYTES, key)).toString('utf8')
  } catch (err) {
    if (err instanceof VaultError) return '' // too large: not a lock
    throw err
  }
}

/**
 * Every lock in the store. An object under locks/ that is not a readable lock
 * (being written, or garbage) is reported as a stale exclusive lock of an
 * unknown holder, so that it can be seen and broken.
 */
export async function listLocks(
  store: StorePlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
  now: number,
): Promise<LockView[]> {
  const out: LockView[] = []
  for await (const obj of store.list(endpoint, LOCK_PREFIX, ctx)) {
    const id = LOCK_KEY.exec(obj.key)?.[1]
    if (!id) continue
    let text: string
    try {
      text = await readText(store, endpoint, obj.key, ctx)
    } catch (err) {
      if (ctx.signal.aborted) throw err
      continue // removed since it was listed
    }
    const lock = parseLock(id, text)
    if (!lock) {
      out.push({ ...unreadable(id), stale: true, ours: false })
      continue
    }
    out.push({ ...lock, stale: isStale(lock, now), ours: lock.instance === INSTANCE })
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at))
}

function unreadable(id: string): LockRecord {
  return {
    format: 'bulwark-lock',
    version: 1,
    id,
    exclusive: true,
    operation: '(unreadable lock object)',
    host: '',
    pid: 0,
    instance: '',
    daemon: '',
    created_at: new Date(0).toISOString(),
    refreshed_at: new Date(0).toISOString(),
    lease_ms: 0,
  }
}

export function describeLock(lock: LockView): string {
  const kind = lock.exclusive ? 'an exclusive' : 'a shared'
  return `${kind} "${lock.operation}" lock (${lock.id}) held by pid ${lock.pid} on ${lock.host || 'an unknown host'} (data directory ${lock.daemon || 'unknown'}) since ${lock.created_at}, last refreshed ${lock.refreshed_at}`
}

async function writeLock(o: LockOptions, lock: LockRecord, ctx: PluginContext): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(lock)}\n`)
  await o.store.put(o.endpoint, `${LOCK_PREFIX}${lock.id}`, retryableBody([body]), ctx)
}

const conflicts = (mine: { exclusive: boolean }, other: LockView) =>
  !other.ours && (mine.exclusive || other.exclusive)

export interface HeldLock {
  readonly id: string
  /** Aborted when the lock is lost (broken by someone, or refresh kept failing). */
  readonly lost: AbortSignal
  release(): Promise<void>
}

/**
 * Takes a lock, waiting (with backoff, and saying so in the log) while a
 * conflicting live one exists, breaking stale ones. Fails after waitMs naming
 * the holder.
 */
export async function acquireLock(o: LockOptions): Promise<HeldLock> {
  const { ctx } = o
  const started = o.now()
  let told = false
  let delay = 500
  for (;;) {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    const holder = await blocking(o)
    if (!holder) {
      const lock = newLock(o)
      await writeLock(o, lock, ctx)
      // Someone may have written a conflicting lock between our look and our write:
      // then both step back for a random while and look again.
      const raced = await blocking(o, lock.id)
      if (!raced) return hold(o, lock)
      await o.store.delete(o.endpoint, `${LOCK_PREFIX}${lock.id}`, quiet(ctx)).catch(() => {})
      await sleep(200 + Math.random() * 800, undefined, { signal: ctx.signal }).catch(() => {})
      continue
    }
    if (o.now() - started >= o.waitMs) {
      throw new StoreLockedError(
        `the store is locked by ${describeLock(holder)}; wait for it to finish, or if that process is gone, break the lock (bulwark break lock STORE ${holder.id})`,
        holder,
      )
    }
    if (!told) {
      ctx.log(`waiting for ${describeLock(holder)}`)
      told = true
    }
    await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {})
    delay = Math.min(delay * 2, 10_000)
  }
}

/** The first live lock that conflicts with ours (stale ones are broken on the way). */
async function blocking(o: LockOptions, ownId?: string): Promise<LockView | undefined> {
  const locks = await listLocks(o.store, o.endpoint, o.ctx, o.now())
  for (const lock of locks) {
    if (lock.id === ownId || !conflicts(o, lock)) continue
    if (lock.stale) {
      o.ctx.log(`breaking stale ${describeLock(lock)}`)
      await o.store.delete(o.endpoint, `${LOCK_PREFIX}${lock.id}`, o.ctx)
      continue
    }
    return lock
  }
  return undefined
}

function newLock(o: LockOptions): LockRecord {
  const at = new Date(o.now()).toISOString()
  return {
    format: 'bulwark-lock',
    version: 1,
    id: randomBytes(16).toString('hex'),
    exclusive: o.exclusive,
    operation: o.operation,
    host: hostname(),
    pid: process.pid,
    instance: INSTANCE,
    daemon: o.daemon,
    created_at: at,
    refreshed_at: at,
    lease_ms: o.leaseMs,
  }
}

const quiet = (ctx: PluginContext): PluginContext => ({
  ...ctx,
  signal: AbortSignal.timeout(30_000),
})

/** Keeps the lock alive until released; aborts `lost` if it goes away. */
function hold(o: LockOptions, lock: LockRecord): HeldLock {
  const lost = new AbortController()
  const key = `${LOCK_PREFIX}${lock.id}`
  let released = false
  let lastRefresh = o.now()
  let beating: Promise<void> = Promise.resolve()
  const beat = async () => {
    const ctx = quiet(o.ctx)
    try {
      if ((await o.store.head(o.endpoint, key, ctx)) === null) {
        lost.abort(new Error(`the store lock ${lock.id} was broken by someone else`))
        return
      }
      const at = o.now()
      await writeLock(o, { ...lock, refreshed_at: new Date(at).toISOString() }, ctx)
      lastRefresh = at
    } catch (err) {
      if (o.now() - lastRefresh > o.leaseMs * 0.8) {
        lost.abort(
          new Error(`the store lock ${lock.id} could not be refreshed: ${(err as Error).message}`),
        )
      }
    }
  }
  const timer = setInterval(
    () => {
      if (released || lost.signal.aborted) return
      beating = beating.then(beat)
    },
    Math.max(50, Math.floor(o.leaseMs / 3)),
  )
  timer.unref()
  return {
    id: lock.id,
    lost: lost.signal,
    async release() {
      if (released) return
      released = true
      clearInterval(timer)
      await beating
      await o.store.delete(o.endpoint, key, quiet(o.ctx))
    },
  }
}

/** Breaks a lock by id; refuses a live one unless forced. Returns what was broken. */
export async function breakLock(
  store: StorePlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
  id: string,
  opts: { force: boolean; now: number },
): Promise<LockView | null> {
  const lock = (await listLocks(store, endpoint, ctx, opts.now)).find((l) => l.id === id)
  if (!lock) return null
  if (!lock.stale && !opts.force) {
    throw new StoreLockedError(
      `${describeLock(lock)} is not stale: its holder refreshed it within its lease of ${Math.round(lock.lease_ms / 1000)} s. Break it only if you are sure that process is gone (force)`,
      lock,
    )
  }
  await store.delete(endpoint, `${LOCK_PREFIX}${id}`, ctx)
  return lock
}
