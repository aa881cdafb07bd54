// Garbage collection of a store's vault, mark and sweep. Mark: every chunk
// listed by a manifest in the store is live. Sweep: a chunk that is not is
// deleted once this daemon has known it for longer than the grace period
// (chunks it has not seen before start their grace now). The queue never runs
// a GC beside another task on the same store, so a backup that reuses an old
// chunk cannot lose it mid-run; the grace period covers the chunks of a backup
// that died before writing its manifest, and other writers.
import { readManifest } from '../vault/reader'
import { formatBytes } from './progress'
import { TaskFailure, type TaskHandler } from './env'

const CHUNK_KEY = /^chunks\/[0-9a-f]{2}\/([0-9a-f]{64})$/
const MANIFEST_KEY = /^manifests\/([0-9a-f-]{36})$/

export const runGc: TaskHandler = async (task, ctx, env) => {
  if (!task.store_uuid) throw new TaskFailure('no store to collect')
  const store = await env.store(task.store_uuid)
  if (!store.vault) {
    ctx.log('this store keeps whole-archive blobs; there is nothing to collect')
    return
  }
  const { master } = await env.archives.open(store, ctx)
  const live = new Set<string>()
  let manifests = 0
  for await (const obj of store.plugin.list(store.endpoint, 'manifests/', ctx)) {
    const uuid = MANIFEST_KEY.exec(obj.key)?.[1]
    if (!uuid) continue
    const m = await readManifest({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx,
      master,
      archiveUuid: uuid,
    })
    for (const [id] of m.chunks) live.add(id)
    manifests++
  }
  const index = env.archives.index(store.uuid)
  const eligible = new Set(index.seenBefore(env.clock.now() - env.gcGraceMs))
  let kept = 0
  let deleted = 0
  let freed = 0
  const gone: string[] = []
  for await (const obj of store.plugin.list(store.endpoint, 'chunks/', ctx)) {
    const id = CHUNK_KEY.exec(obj.key)?.[1]
    if (!id || live.has(id)) continue
    if (!eligible.has(id)) {
      index.add(id, obj.size) // starts its grace period if it was unknown
      kept++
      continue
    }
    await store.plugin.delete(store.endpoint, obj.key, ctx)
    gone.push(id)
    deleted++
    freed += obj.size
  }
  index.forget(gone)
  ctx.log(
    `${manifests} archive(s) reference ${live.size} chunk(s); deleted ${deleted} unreferenced chunk(s) (${formatBytes(freed)}); ${kept} unreferenced chunk(s) kept until their grace period ends`,
  )
  env.catalog.tasks.update(task.uuid, { bytes: freed })
}
