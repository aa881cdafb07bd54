// Garbage collection of a store's vault, mark and sweep, under an exclusive
// lock in the store (no backup, restore or verify of any daemon runs beside
// it). Mark: every chunk listed by a manifest in the store is live. Sweep: a
// chunk that is not is deleted once this daemon has known it for longer than
// the grace period (chunks it has not seen before start their grace now).
// Before the first delete a new GC epoch goes into the store, so every other
// daemon's index is checked against the store before it is trusted again;
// and each chunk is forgotten by this daemon's index before it is deleted,
// so an interrupted sweep (cancel, crash, a store that fails) never leaves
// the index claiming a chunk that is gone. Leftovers of interrupted uploads
// older than the grace period are removed too. Manifests are read, the 256
// shards of chunks/ listed, and each batch of chunks deleted a few at a time.
import { CHUNKS_PREFIX, MANIFESTS_PREFIX, parseChunkKey, parseManifestKey } from '../vault/objects'
import { mapLimit } from '../platform/concurrency'
import { readManifest } from '../vault/reader'
import { readEpoch, writeEpoch } from '../vault/epoch'
import { formatBytes } from './progress'
import { TaskFailure, type TaskHandler } from './env'

/** The youngest leftover of an interrupted upload that GC removes. */
const LEFTOVER_MIN_AGE_MS = 3600_000
/** Chunks forgotten, then deleted, at a time. */
const BATCH = 64
/** Unknown chunks noticed (their grace started) in one transaction. */
const NOTICES = 1024
/** Manifests read, shards of chunks/ listed, and chunks deleted at once. */
const READS = 4
const LISTINGS = 4
const DELETES = 8
/** chunks/00/ … chunks/ff/: the store lists each shard on its own, several at once. */
const SHARDS = Array.from(
  { length: 256 },
  (_, i) => `${CHUNKS_PREFIX}${i.toString(16).padStart(2, '0')}/`,
)

export const runGc: TaskHandler = async (task, ctx, env) => {
  if (!task.store_uuid) throw new TaskFailure('no store to collect')
  const store = await env.vault.store(task.store_uuid)
  if (!store.vault) {
    ctx.log('this store keeps whole-archive blobs; there is nothing to collect')
    return
  }
  const opts = { operation: 'gc', exclusive: true }
  await env.vault.withSession(store, ctx, opts, async ({ master, index, ctx: sctx }) => {
    const before = await readEpoch(store.plugin, store.endpoint, sctx)
    const inStep = index.epoch() === before
    const live = new Set<string>()
    let manifests = 0
    const listed = store.plugin.list(store.endpoint, MANIFESTS_PREFIX, sctx)
    await mapLimit(
      listed,
      READS,
      async (obj, _i, signal) => {
        const uuid = parseManifestKey(obj.key)
        if (!uuid) return
        const m = await readManifest({
          store: store.plugin,
          endpoint: store.endpoint,
          ctx: { ...sctx, signal },
          master,
          archiveUuid: uuid,
        })
        for (const [id] of m.chunks) live.add(id)
        manifests++
      },
      sctx.signal,
    )
    const cutoff = env.clock.now() - env.gcGraceMs
    let epoch: Promise<string> | undefined
    let kept = 0
    let deleted = 0
    let freed = 0
    const sweep = async (
      batch: { id: string; key: string; size: number }[],
      signal: AbortSignal,
    ) => {
      if (batch.length === 0) return
      // The epoch first, then forget, then delete: whatever stops us, no index claims a gone chunk.
      epoch ??= writeEpoch(store.plugin, store.endpoint, { ...sctx, signal }, env.clock.now())
      await epoch
      index.forget(batch.map((c) => c.id))
      await mapLimit(
        batch,
        DELETES,
        async (c, _i, stopped) => {
          await store.plugin.delete(store.endpoint, c.key, { ...sctx, signal: stopped })
          deleted++
          freed += c.size
          env.catalog.tasks.update(task.uuid, { bytes: freed })
        },
        signal,
      )
    }
    await mapLimit(
      SHARDS,
      LISTINGS,
      async (prefix, _i, signal) => {
        // One shard's candidates at a time: memory follows a shard, not the index.
        const eligible = new Set(index.seenBefore(cutoff, prefix.slice(CHUNKS_PREFIX.length, -1)))
        const batch: { id: string; key: string; size: number }[] = []
        const noticed: { id: string; size: number }[] = []
        for await (const obj of store.plugin.list(store.endpoint, prefix, { ...sctx, signal })) {
          const id = parseChunkKey(obj.key)
          if (!id || live.has(id)) continue
          if (!eligible.has(id)) {
            noticed.push({ id, size: obj.size }) // starts its grace period if it was unknown
            if (noticed.length >= NOTICES) index.noticeAll(noticed.splice(0))
            kept++
            continue
          }
          batch.push({ id, key: obj.key, size: obj.size })
          if (batch.length >= BATCH) await sweep(batch.splice(0), signal)
        }
        index.noticeAll(noticed)
        await sweep(batch, signal)
      },
      sctx.signal,
    )
    // Every chunk this GC deleted is forgotten: if the index matched the store before, it still does.
    if (epoch && inStep) index.setEpoch(await epoch)
    ctx.log(
      `${manifests} archive(s) reference ${live.size} chunk(s); deleted ${deleted} unreferenced chunk(s) (${formatBytes(freed)}); ${kept} unreferenced chunk(s) kept until their grace period ends`,
    )
    if (store.plugin.cleanup) {
      // Never younger than an hour, whatever the grace period: a leftover
      // that young may be a write still in flight (another daemon taking a
      // lock in this store, which it does before it sees this GC's).
      const age = Math.max(env.gcGraceMs, LEFTOVER_MIN_AGE_MS)
      const { removed, bytes } = await store.plugin.cleanup(store.endpoint, age, sctx)
      if (removed > 0) {
        ctx.log(`removed ${removed} leftover(s) of interrupted uploads (${formatBytes(bytes)})`)
      }
    }
    env.catalog.tasks.update(task.uuid, { bytes: freed })
  })
}
