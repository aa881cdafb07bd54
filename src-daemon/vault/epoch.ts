// The vault's GC epoch (gc-epoch): a random value a garbage collection
// rewrites before it deletes any chunk. Every daemon records the epoch its
// chunk index last matched; a writer that finds another one lists the
// store's chunks before trusting its index (docs/vault-format.md).
import { randomBytes } from 'node:crypto'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import type { Endpoint, PluginContext, StorePlugin } from '../../plugins/sdk/types'
import { fetchObject } from './fetch'
import { VaultError } from './objects'

export const EPOCH_KEY = 'gc-epoch'
const MAX_EPOCH_BYTES = 4096

/** The store's epoch; '' when it has none yet. */
export async function readEpoch(
  store: StorePlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
): Promise<string> {
  if ((await store.head(endpoint, EPOCH_KEY, ctx)) === null) return ''
  let text: string
  try {
    text = (
      await fetchObject(store, endpoint, EPOCH_KEY, ctx, MAX_EPOCH_BYTES, EPOCH_KEY)
    ).toString('utf8')
  } catch (err) {
    if (err instanceof VaultError) return `unreadable-${MAX_EPOCH_BYTES}` // too large: garbage
    if ((await store.head(endpoint, EPOCH_KEY, ctx)) === null) return ''
    throw err
  }
  try {
    const x = JSON.parse(text) as { epoch?: unknown }
    if (typeof x.epoch === 'string' && x.epoch !== '') return x.epoch
  } catch {
    // unreadable: a value no index matches, so every writer lists the store
  }
  return `unreadable-${text.length}`
}

/** Writes a new epoch and returns it. */
export async function writeEpoch(
  store: StorePlugin,
  endpoint: Endpoint,
  ctx: PluginContext,
  now: number,
): Promise<string> {
  const epoch = randomBytes(16).toString('hex')
  const body = JSON.stringify({
    format: 'bulwark-gc-epoch',
    epoch,
    at: new Date(now).toISOString(),
  })
  await store.put(endpoint, EPOCH_KEY, retryableBody([Buffer.from(`${body}\n`)]), ctx)
  return epoch
}
