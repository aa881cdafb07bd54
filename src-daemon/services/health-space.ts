// The low-space health signal: a local-directory store whose filesystem is
// filling up (fs.statfs on the store's path), or a store with a configured
// quota (the s3 plugin's quota_gb) that holds nearly that much, by the
// catalog's count of what it holds.
import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { StoreRow } from '../catalog/rows'
import { formatBytes } from '../tasks/progress'
import type { FoundSignal } from './health-signals'

/** fs stores: less free space than this share of the filesystem is low. */
export const LOW_SPACE_RATIO = 0.1
/** fs stores: less free space than this is low, however large the filesystem. */
export const LOW_SPACE_BYTES = 1024 ** 3
/** Stores with a quota: holding more than this share of it is low. */
export const QUOTA_RATIO = 0.9
/** quota_gb counts in GB (10^9 bytes), as S3 services bill. */
const GB = 1e9

export interface SpaceOptions {
  /**
   * A free-space threshold in bytes for fs stores (BULWARK_LOW_SPACE_BYTES):
   * when set it is the only one (the 10% share is not applied).
   */
  lowSpaceBytes?: number
}

export interface Filesystem {
  free: number
  total: number
}

/** Free and total bytes of the filesystem holding `path` (its nearest existing parent: the store's directory is made at first use). */
export async function filesystemOf(path: string): Promise<Filesystem> {
  let at = path
  for (;;) {
    try {
      const fs = await statfs(at)
      return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize }
    } catch (err) {
      const parent = dirname(at)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err
      at = parent
    }
  }
}

/** BULWARK_LOW_SPACE_BYTES, when it is a whole number of bytes. */
export function lowSpaceFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.BULWARK_LOW_SPACE_BYTES?.trim()
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined
}

function endpointOf(store: StoreRow): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(store.endpoint)
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const percent = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0

export async function lowSpaceSignals(
  stores: StoreRow[],
  deps: {
    storedBytes(storeUuid: string): number
    filesystem(path: string): Promise<Filesystem>
    /** A store whose space cannot be read is left out, and said so here. */
    warn(line: string): void
  },
  opts: SpaceOptions = {},
): Promise<FoundSignal[]> {
  const found: FoundSignal[] = []
  for (const store of stores) {
    const endpoint = endpointOf(store)
    const quotaGb = endpoint.quota_gb
    if (typeof quotaGb === 'number' && quotaGb > 0) {
      const quota = quotaGb * GB
      const used = deps.storedBytes(store.uuid)
      if (used > QUOTA_RATIO * quota) {
        found.push(overQuota(store, used, quota))
        continue // one low-space signal per store
      }
    }
    if (store.plugin !== 'fs' || typeof endpoint.path !== 'string') continue
    let fs: Filesystem
    try {
      fs = await deps.filesystem(endpoint.path)
    } catch (err) {
      deps.warn(
        `health: cannot read the free space of store "${store.name}" at ${endpoint.path}: ${(err as Error).message}`,
      )
      continue
    }
    const low =
      opts.lowSpaceBytes !== undefined
        ? fs.free < opts.lowSpaceBytes
        : fs.free < LOW_SPACE_BYTES || fs.free < LOW_SPACE_RATIO * fs.total
    if (low) found.push(lowFree(store, endpoint.path, fs, opts))
  }
  return found
}

function overQuota(store: StoreRow, used: number, quota: number): FoundSignal {
  return {
    id: `low-space:store:${store.uuid}`,
    signal: 'low-space',
    severity: 'warning',
    subject: { kind: 'store', uuid: store.uuid, name: store.name },
    message:
      `Store "${store.name}" holds ${formatBytes(used)}, ${percent(used, quota)}% of its ` +
      `${quota / GB} GB quota: shorten retention, collect garbage, or raise quota_gb ` +
      `(with the provider's limit) before backups fail.`,
    details: {
      used_bytes: used,
      quota_bytes: quota,
      percent_used: percent(used, quota),
    },
  }
}

function lowFree(store: StoreRow, path: string, fs: Filesystem, opts: SpaceOptions): FoundSignal {
  const threshold = opts.lowSpaceBytes ?? Math.max(LOW_SPACE_BYTES, LOW_SPACE_RATIO * fs.total)
  return {
    id: `low-space:store:${store.uuid}`,
    signal: 'low-space',
    severity: 'warning',
    subject: { kind: 'store', uuid: store.uuid, name: store.name },
    message:
      `Store "${store.name}" has ${formatBytes(fs.free)} free on the filesystem of ${path} ` +
      `(${percent(fs.free, fs.total)}% of ${formatBytes(fs.total)}): free some space, ` +
      `shorten retention, or move the store before backups fail.`,
    details: {
      free_bytes: fs.free,
      total_bytes: fs.total,
      threshold_bytes: Math.round(threshold),
      percent_free: percent(fs.free, fs.total),
      path,
    },
  }
}
