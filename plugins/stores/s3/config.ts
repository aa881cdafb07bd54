// Reads the `s3` store's endpoint (see manifest.json) into a typed config,
// with the defaults applied and mistakes a person can make reported in words,
// and maps store keys to object keys under the configured prefix.
import { PluginError } from '../../sdk/errors'
import { checkKey, type Endpoint } from '../../sdk/types'

export type ChecksumMode = 'when_supported' | 'when_required'

export interface S3Config {
  bucket: string
  /** Without leading, trailing or doubled slashes; '' for the whole bucket. */
  prefix: string
  region: string
  /** Custom endpoint URL without a trailing slash; undefined for Amazon S3. */
  endpoint: string | undefined
  /** Both set, or both undefined (the SDK's default credential chain). */
  accessKeyId: string | undefined
  secretAccessKey: string | undefined
  forcePathStyle: boolean
  checksumMode: ChecksumMode
  /** Bytes per multipart part. */
  partSize: number
}

export const MiB = 1024 * 1024
export const DEFAULT_PART_SIZE_MB = 64
/** S3's limits: parts are 5 MiB to 5 GiB, at most 10,000 of them. */
export const MIN_PART_SIZE_MB = 5
export const MAX_PART_SIZE_MB = 5120
export const MAX_PARTS = 10_000

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '')

function bool(v: unknown, name: string): boolean {
  if (v === undefined || v === null || v === '') return false
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === 'false') return v === 'true'
  throw new PluginError(`${name} must be true or false, not "${String(v)}"`)
}

function partSizeOf(v: unknown): number {
  if (v === undefined || v === null || v === '') return DEFAULT_PART_SIZE_MB * MiB
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isInteger(n) || n < MIN_PART_SIZE_MB || n > MAX_PART_SIZE_MB) {
    throw new PluginError(
      `part_size_mb must be a whole number from ${MIN_PART_SIZE_MB} to ${MAX_PART_SIZE_MB}, not "${String(v)}"`,
    )
  }
  return n * MiB
}

function endpointOf(v: unknown): string | undefined {
  const raw = str(v)
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    url = new URL('invalid:')
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new PluginError(
      `endpoint must be a URL such as https://minio.example.com:9000, not "${raw}"`,
    )
  }
  if (url.username || url.password) {
    throw new PluginError(
      'endpoint must not contain credentials; use access_key_id and secret_access_key',
    )
  }
  return raw.replace(/\/+$/, '')
}

export function configOf(endpoint: Endpoint): S3Config {
  const bucket = str(endpoint.bucket)
  if (!bucket) throw new PluginError('bucket is required: the name of an existing S3 bucket')
  if (!/^[A-Za-z0-9._-]{3,255}$/.test(bucket)) {
    throw new PluginError(
      `bucket must be a bucket name such as acme-backups (not a URL or path), not "${bucket}"`,
    )
  }
  const accessKeyId = str(endpoint.access_key_id) || undefined
  const secretAccessKey = str(endpoint.secret_access_key) || undefined
  if (!accessKeyId !== !secretAccessKey) {
    throw new PluginError(
      'set both access_key_id and secret_access_key, or leave both empty to use the default AWS credential chain',
    )
  }
  const mode = str(endpoint.checksum_mode) || 'when_supported'
  if (mode !== 'when_supported' && mode !== 'when_required') {
    throw new PluginError(`checksum_mode must be when_supported or when_required, not "${mode}"`)
  }
  return {
    bucket,
    prefix: str(endpoint.prefix).split('/').filter(Boolean).join('/'),
    region: str(endpoint.region) || 'us-east-1',
    endpoint: endpointOf(endpoint.endpoint),
    accessKeyId,
    secretAccessKey,
    forcePathStyle: bool(endpoint.force_path_style, 'force_path_style'),
    checksumMode: mode,
    partSize: partSizeOf(endpoint.part_size_mb),
  }
}

/** The object key for a store key: checked, then put under the prefix. */
export function objectKeyOf(cfg: S3Config, key: string): string {
  try {
    checkKey(key)
  } catch (err) {
    throw new PluginError((err as Error).message, 'permanent', { cause: err })
  }
  return cfg.prefix ? `${cfg.prefix}/${key}` : key
}

/** What list() asks S3 for, and strips again: the prefix with its slash. */
export const listBase = (cfg: S3Config): string => (cfg.prefix ? `${cfg.prefix}/` : '')

/** Where the bucket lives, as a person would name it. */
export const whereOf = (cfg: S3Config): string => cfg.endpoint ?? `AWS region ${cfg.region}`

/** The URL the requests go to, for "cannot reach" messages. */
export const urlOf = (cfg: S3Config): string =>
  cfg.endpoint ?? `https://s3.${cfg.region}.amazonaws.com`
