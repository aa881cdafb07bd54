// Archives in the vault format 'vault': one stream (a database dump, say)
// cut into chunks, deduplicated, sealed, and a manifest listing them.
import { Transform, pipeline, type Readable } from 'node:stream'
import { readArchive, verifyArchive } from '../reader'
import type { Manifest } from '../objects'
import { writeArchive, type ChunkClaims, type RemoteChunk } from '../writer'
import type { PluginContext, StorePlugin } from '../../../plugins/sdk/types'
import type { VaultSessions } from './sessions'
import type { ArchiveRef, NewArchive, StoreHandle, VaultSession, WrittenArchive } from './types'

export class StreamArchives {
  constructor(private readonly sessions: VaultSessions) {}

  /** Writes the stream (or an agent's chunks) as chunks and a manifest, in the session. */
  async write(
    store: StoreHandle,
    archive: NewArchive,
    data: Readable | ((claims: ChunkClaims) => AsyncIterable<RemoteChunk>),
    session: VaultSession,
  ): Promise<WrittenArchive> {
    const stats = await writeArchive({
      store: store.plugin,
      endpoint: store.endpoint,
      ctx: session.ctx,
      config: session.config,
      master: session.master,
      index: session.index,
      ...(typeof data === 'function' ? { remote: data } : { source: data }),
      manifest: manifestHead(archive, store.uuid),
    })
    return {
      key: stats.manifestKey,
      format: 'vault',
      size: stats.size,
      newBytes: stats.newBytes,
      storedBytes: stats.storedBytes,
      chunks: stats.chunks,
    }
  }

  /**
   * The archive's bytes, read under a shared store lock released when the
   * stream closes; a chunk found missing or damaged is forgotten by the index.
   */
  async read(store: StoreHandle, archive: ArchiveRef, ctx: PluginContext): Promise<Readable> {
    const { session, end } = await this.sessions.begin(store, ctx, {
      operation: 'restore',
      exclusive: false,
    })
    try {
      const { stream } = await readArchive({
        store: store.plugin,
        endpoint: store.endpoint,
        ctx: session.ctx,
        master: session.master,
        archiveUuid: archive.uuid,
      })
      stream.on('error', (err) => this.sessions.forgetDamaged(store.uuid, err, ctx))
      stream.once('close', () => void end())
      return stream
    } catch (err) {
      await end()
      this.sessions.forgetDamaged(store.uuid, err, ctx)
      throw err
    }
  }

  /** Reads every chunk of a 'vault' or 'tree' archive back, authenticating it. */
  verify(
    store: StoreHandle,
    archive: ArchiveRef,
    ctx: PluginContext,
    onRead: (bytes: number) => void,
  ): Promise<{ chunks: number; bytes: number }> {
    const opts = { operation: 'verify', exclusive: false }
    return this.sessions.with(store, ctx, opts, async (s) => {
      try {
        return await verifyArchive({
          store: countingGets(store.plugin, onRead),
          endpoint: store.endpoint,
          ctx: s.ctx,
          master: s.master,
          archiveUuid: archive.uuid,
        })
      } catch (err) {
        this.sessions.forgetDamaged(store.uuid, err, ctx)
        throw err
      }
    })
  }
}

/** What every manifest of a new archive says of it (the writers add its chunks, size and tree). */
export function manifestHead(
  archive: NewArchive,
  storeUuid: string,
  tags: Record<string, string> = {},
): Omit<Manifest, 'chunks' | 'size' | 'vault' | 'tree'> {
  return {
    version: 1,
    archive: archive.uuid,
    taken_at: new Date(archive.takenAt).toISOString(),
    expires_at: new Date(archive.expiresAt).toISOString(),
    target: archive.target,
    job: archive.job,
    store: storeUuid,
    notes: '',
    tags,
  }
}

/**
 * The store plugin, with every get's stream counted as it is read: onRead
 * hears the running total. Errors of the store's stream pass through as they are.
 */
function countingGets(plugin: StorePlugin, onRead: (bytes: number) => void): StorePlugin {
  let total = 0
  return new Proxy(plugin, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (prop !== 'get' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (...args: Parameters<StorePlugin['get']>) => {
        const source = await target.get(...args)
        const counted = new Transform({
          transform(chunk: Buffer, _enc, done) {
            total += chunk.length
            onRead(total)
            done(null, chunk)
          },
        })
        pipeline(source, counted, () => undefined)
        return counted
      }
    },
  })
}
