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
}

export interface StoredObject {
  key: string
  size: number
}

export interface StorePlugin {
  /**
   * Stores the stream under key. The object becomes visible only once all of
   * it is durably stored (temporary name + rename, completed multipart
   * upload); on error or abort nothing is left under key. Overwrites.
   */
  put(endpoint: Endpoint, key: string, data: Readable, ctx: PluginContext): Promise<StoredObject>

  /** Streams the object back. A missing key rejects with a permanent PluginError saying so. */
  get(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<Readable>

  /** Size of the object, or null when there is none under key. */
  head(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<StoredObject | null>

  /** Removes the object; a missing key is not an error. */
  delete(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<void>

  /** Every object whose key starts with prefix, in no particular order. */
  list(endpoint: Endpoint, prefix: string, ctx: PluginContext): AsyncIterable<StoredObject>

  /** Checks the store is reachable and writable; resolves to a one-line description. */
  test(endpoint: Endpoint, ctx: PluginContext): Promise<string>
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
