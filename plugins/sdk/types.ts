// The two plugin interfaces. A target plugin moves data out of and back into
// a data system as a byte stream; a store plugin keeps keyed blobs. Every
// call gets an AbortSignal: when it fires, stop at once, kill any child
// process, and leave nothing behind that looks complete.
import type { Readable } from 'node:stream'

/** The endpoint as validated against the manifest, secrets included. Never log it. */
export type Endpoint = Record<string, unknown>

export interface PluginContext {
  signal: AbortSignal
  /** Appends a line to the task log (secrets are masked there, but don't send them). */
  log(line: string): void
  /**
   * Restores only: call right BEFORE creating something the restore would
   * leave behind if it failed (a database), with what undoRestore needs to
   * remove it again (`{ database: 'orders_copy' }`). The note is kept in the
   * catalog, so even a crash leaves a trace: if the restore fails, is
   * canceled or the daemon dies, undoRestore is called with it. Never call it
   * for something that already existed. Returns a function that withdraws the
   * note (the creation turned out not to happen, or the plugin undid it itself).
   */
  created?(note: Record<string, unknown>): () => void
}

export interface TargetPlugin {
  /**
   * Starts a backup and returns its byte stream. The stream must end only
   * after the backup is known to be complete (the dump tool exited 0); on any
   * failure it must be destroyed with an error instead, so a truncated dump
   * can never look like a whole one.
   */
  backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable>

  /**
   * Restores from a stream produced by backup. Resolves once the data system
   * holds the restored data; rejects (with a PluginError saying what went
   * wrong) otherwise. Must refuse to silently overwrite data it was not told
   * it may replace.
   */
  restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void>

  /** Checks connectivity and permissions; resolves to a one-line description of what was found. */
  test(endpoint: Endpoint, ctx: PluginContext): Promise<string>

  /**
   * Removes what a failed or interrupted restore created, as described by a
   * note it passed to ctx.created (dropping the database if it still exists).
   * Must be idempotent: it may run after the plugin's own cleanup, or again
   * after a crash. Says in ctx.log what it removed.
   */
  undoRestore?(endpoint: Endpoint, note: Record<string, unknown>, ctx: PluginContext): Promise<void>

  /**
   * Directory targets: where the directory is and how to walk it. When a
   * target has this, the daemon backs it up as a tree archive (each file
   * chunked, browsable, restorable in part) into stores that hold a vault,
   * walking the directory itself; backup and restore remain for other
   * stores and for archives made as one stream. For 'backup' the directory
   * must exist; for 'restore' it may be missing (it is created).
   */
  tree?(endpoint: Endpoint, ctx: PluginContext, purpose: 'backup' | 'restore'): Promise<TreeSpec>
}

/** A directory to back up as a tree: what TargetPlugin.tree returns. */
export interface TreeSpec {
  /** Absolute path of the directory. */
  root: string
  /**
   * Glob patterns relative to root: one without a '/' matches a name at any
   * depth, one with a '/' is anchored at root; '*' and '?' within a name, '**' across.
   */
  exclude: string[]
  /** Do not descend into directories on another filesystem than root's. */
  oneFileSystem: boolean
  /** Every Nth backup reads every file even when its metadata is unchanged; 0: never. */
  rereadEvery: number
}

export interface StoredObject {
  key: string
  size: number
}

/**
 * What a store can do, declared by the plugin (`capabilities` on
 * StorePlugin). The daemon decides from it, never from where a plugin came
 * from: only a store that can list and stat holds a chunked vault, and the
 * host runs at most `connections` of its calls at once per endpoint.
 */
export interface StoreCapabilities {
  /** head and list work (it can list and stat objects), so it can hold a chunked vault. */
  vault: boolean
  /** put publishes an object whole or not at all, and an overwrite keeps the old one until then. */
  atomicPut: boolean
  /** get can return part of an object (GetOptions.range) without reading the rest. */
  rangedGet: boolean
  /** Parallel calls it serves well; more wait for a slot. At least 1. */
  connections: number
}

/** What a store that declares nothing is taken to do. */
export const DEFAULT_STORE_CAPABILITIES: Readonly<StoreCapabilities> = Object.freeze({
  vault: false,
  atomicPut: false,
  rangedGet: false,
  connections: 1,
})

/** What cleanup removed. */
export interface CleanupResult {
  /** Temporary objects removed. */
  removed: number
  /** Their size in bytes, as far as the store tells. */
  bytes: number
}

export interface GetOptions {
  /**
   * Only these bytes of the object, for a store whose capabilities say
   * rangedGet (others ignore it and send everything). A range that runs past
   * the end yields what there is, possibly nothing.
   */
  range?: { offset: number; length: number }
}

export interface StorePlugin {
  /** What the store can do; absent means DEFAULT_STORE_CAPABILITIES (see storeCapabilities()). */
  readonly capabilities?: StoreCapabilities

  /**
   * Stores the stream under key. The object becomes visible only once all of
   * it is durably stored (temporary name + rename, completed multipart
   * upload); on error or abort nothing is left under key. Overwrites.
   * `data` is a plain Readable; it may be a retryableBody, which the host
   * uses to retry a failed put with a fresh copy (a plugin need not care).
   */
  put(endpoint: Endpoint, key: string, data: Readable, ctx: PluginContext): Promise<StoredObject>

  /**
   * Streams the object back. A missing key rejects with PluginNotFoundError
   * (permanent, naming the key); every other failure with a PluginError of
   * the right kind. A failure mid-stream destroys the stream with one.
   */
  get(endpoint: Endpoint, key: string, ctx: PluginContext, opts?: GetOptions): Promise<Readable>

  /** Size of the object, or null when there is none under key. */
  head(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<StoredObject | null>

  /** Removes the object; a missing key is not an error. */
  delete(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<void>

  /** Every object whose key starts with prefix, in no particular order. */
  list(endpoint: Endpoint, prefix: string, ctx: PluginContext): AsyncIterable<StoredObject>

  /** Checks the store is reachable and writable; resolves to a one-line description. */
  test(endpoint: Endpoint, ctx: PluginContext): Promise<string>

  /**
   * Removes what interrupted writes left behind (a crashed daemon's
   * temporary files, incomplete multipart uploads) that is older than
   * olderThanMs; never a complete object, and nothing younger, so a put
   * still running elsewhere is safe when olderThanMs exceeds its idle time.
   */
  cleanup?(endpoint: Endpoint, olderThanMs: number, ctx: PluginContext): Promise<CleanupResult>
}

/** The capabilities a store plugin declared, completed with the defaults. */
export function storeCapabilities(plugin: StorePlugin): StoreCapabilities {
  const caps = { ...DEFAULT_STORE_CAPABILITIES, ...plugin.capabilities }
  return { ...caps, connections: Math.max(1, Math.floor(caps.connections)) }
}

/** What a plugin folder's index.ts exports as default. */
export type PluginModule =
  { kind: 'target'; plugin: TargetPlugin } | { kind: 'store'; plugin: StorePlugin }

export const defineTarget = (plugin: TargetPlugin): PluginModule => ({ kind: 'target', plugin })
export const defineStore = (plugin: StorePlugin): PluginModule => ({ kind: 'store', plugin })

/**
 * Keys are relative, '/'-separated, made of [A-Za-z0-9._-] segments, never
 * '.' or '..', so every store can map them safely to its own namespace.
 */
export const KEY_PATTERN = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/

export function checkKey(key: string): void {
  if (!KEY_PATTERN.test(key)) throw new Error(`invalid store key "${key}"`)
}
