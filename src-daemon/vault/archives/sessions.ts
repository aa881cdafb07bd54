// Work on a vault runs in a session: the vault opened, a lock in the store
// (shared for backups, restores and verifies, exclusive for GC, rescan and
// import), and for writers a chunk index checked against the store's GC
// epoch, so the index cannot claim a chunk that another daemon's GC removed.
import { readEpoch } from '../epoch'
import { CHUNKS_PREFIX, isDamage, parseChunkKey } from '../objects'
import { acquireLock } from '../store-lock'
import type { PluginContext } from '../../../plugins/sdk/types'
import type { VaultOpener } from './opener'
import type { SessionOptions, StoreHandle, VaultDeps, VaultSession } from './types'

export class VaultSessions {
  constructor(
    private readonly deps: VaultDeps,
    private readonly opener: VaultOpener,
  ) {}

  /**
   * Opens the vault and takes a store lock; `end` releases it. A lock lost
   * meanwhile aborts the session's context.
   */
  async begin(
    store: StoreHandle,
    ctx: PluginContext,
    opts: SessionOptions,
  ): Promise<{ session: VaultSession; end(): Promise<void> }> {
    const { config, master } = await this.opener.open(store, ctx, { create: opts.create })
    const lock = await acquireLock({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx,
      exclusive: opts.exclusive,
      operation: opts.operation,
      daemon: this.deps.daemon,
      now: this.deps.clock.now,
      leaseMs: this.deps.lockLeaseMs,
      waitMs: this.deps.lockWaitMs,
    })
    const session: VaultSession = {
      config,
      master,
      index: this.deps.index(store.uuid),
      ctx: { ...ctx, signal: AbortSignal.any([ctx.signal, lock.lost]) },
      lost: lock.lost,
    }
    const end = () =>
      lock.release().catch((err: unknown) => {
        ctx.log(`could not remove the store lock ${lock.id}: ${(err as Error).message}`)
      })
    try {
      if (opts.syncIndex) await this.syncIndex(store, session)
    } catch (err) {
      await end()
      throw err
    }
    return { session, end }
  }

  /** Runs fn in a session (see begin); a lost lock becomes fn's error. */
  async with<T>(
    store: StoreHandle,
    ctx: PluginContext,
    opts: SessionOptions,
    fn: (session: VaultSession) => Promise<T>,
  ): Promise<T> {
    const { session, end } = await this.begin(store, ctx, opts)
    try {
      return await fn(session)
    } catch (err) {
      if (session.lost.aborted && !ctx.signal.aborted) throw session.lost.reason
      throw err
    } finally {
      await end()
    }
  }

  /** Forgets a chunk a reader found missing or damaged, so the next backup uploads it again. */
  forgetDamaged(storeUuid: string, err: unknown, ctx: PluginContext): void {
    if (!isDamage(err) || !err.key) return
    const id = parseChunkKey(err.key)
    if (!id) return
    this.deps.index(storeUuid).forget([id])
    ctx.log(
      `chunk ${id.slice(0, 12)} is ${err.code} in the store: the next backup that needs it uploads it again`,
    )
  }

  /**
   * Makes the chunk index match the store when a GC (of any daemon) ran since
   * it last did: the index must never claim a chunk that is gone.
   */
  private async syncIndex(store: StoreHandle, s: VaultSession): Promise<void> {
    const epoch = await readEpoch(store.plugin, store.endpoint, s.ctx)
    if (s.index.epoch() === epoch) return
    const present = new Map<string, number>()
    for await (const obj of store.plugin.list(store.endpoint, CHUNKS_PREFIX, s.ctx)) {
      const id = parseChunkKey(obj.key)
      if (id) present.set(id, obj.size)
    }
    const { forgotten } = s.index.sync(present)
    s.index.setEpoch(epoch)
    if (forgotten > 0) {
      s.ctx.log(
        `the store's chunks changed since this daemon last wrote to it (a garbage collection, or another writer): ${forgotten} chunk(s) it knew are gone, and will be uploaded again if needed`,
      )
    }
  }
}
