// Archives of stores that cannot hold a vault (external protocol stores):
// the whole archive as one sealed blob (see ../blob.ts), encrypted with the
// store's vault password, generated on first use.
import type { Readable } from 'node:stream'
import { openBlob, sealBlob } from '../blob'
import type { PluginContext } from '../../../plugins/sdk/types'
import { ensurePassword } from './opener'
import type { ArchiveRef, NewArchive, StoreHandle, VaultDeps, WrittenArchive } from './types'

export class BlobArchives {
  constructor(private readonly deps: Pick<VaultDeps, 'stores'>) {}

  async write(
    store: StoreHandle,
    archive: NewArchive,
    data: Readable,
    ctx: PluginContext,
  ): Promise<WrittenArchive> {
    const stamp = new Date(archive.takenAt)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')
    const key = `${archive.target.uuid}/${stamp}-${archive.uuid}`
    const blob = sealBlob(data, ensurePassword(this.deps, store.uuid, ctx), {
      version: 1,
      archive: archive.uuid,
      taken_at: new Date(archive.takenAt).toISOString(),
      expires_at: new Date(archive.expiresAt).toISOString(),
      target: archive.target,
      job: archive.job,
      store: store.uuid,
      notes: '',
      tags: {},
    })
    try {
      const stored = await store.plugin.put(store.endpoint, key, blob, ctx)
      return {
        key: stored.key,
        format: 'blob',
        size: stored.size,
        newBytes: stored.size,
        storedBytes: stored.size,
        chunks: 1,
      }
    } catch (err) {
      // The store contract says nothing is left on failure; make sure anyway.
      const quiet = { ...ctx, signal: new AbortController().signal }
      await store.plugin.delete(store.endpoint, key, quiet).catch(() => undefined)
      throw err
    }
  }

  async read(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<Readable> {
    const blob = await store.plugin.get(store.endpoint, archive.store_key, ctx)
    return openBlob(blob, ensurePassword(this.deps, store.uuid, ctx), archive.uuid)
  }
}
