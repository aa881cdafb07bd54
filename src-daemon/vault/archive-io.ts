// How an archive's bytes reach a store and come back. Today an archive is one
// plain blob; the vault (chunking, dedup, compression, encryption) replaces
// this module behind the same three functions, so tasks do not change.
import type { Readable } from 'node:stream'
import type { Endpoint, PluginContext, StorePlugin, StoredObject } from '../../plugins/sdk/types'

export interface ArchiveIO {
  /** Streams data into the store; resolves once the store has all of it. Returns the key to restore from. */
  write(
    store: StorePlugin,
    endpoint: Endpoint,
    key: string,
    data: Readable,
    ctx: PluginContext,
  ): Promise<StoredObject>
  read(store: StorePlugin, endpoint: Endpoint, key: string, ctx: PluginContext): Promise<Readable>
  remove(store: StorePlugin, endpoint: Endpoint, key: string, ctx: PluginContext): Promise<void>
}

export const plainArchives: ArchiveIO = {
  write: (store, endpoint, key, data, ctx) => store.put(endpoint, key, data, ctx),
  read: (store, endpoint, key, ctx) => store.get(endpoint, key, ctx),
  remove: (store, endpoint, key, ctx) => store.delete(endpoint, key, ctx),
}
