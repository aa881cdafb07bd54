// Cleanup for the `s3` store: multipart uploads that were started and never
// completed or aborted (a daemon killed mid-put, an abort request that
// failed) keep their parts, billed, and invisible to ListObjects. This finds
// them under the store's prefix with ListMultipartUploads and aborts those
// initiated before the cutoff. Complete objects are never touched.
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type MultipartUpload,
  type S3Client,
} from '@aws-sdk/client-s3'
import { PluginAbortedError } from '../../sdk/errors'
import { KEY_PATTERN, type CleanupResult, type PluginContext } from '../../sdk/types'
import { clientFor } from './client'
import { listBase, whereOf, type S3Config } from './config'
import { describeS3Error, statusOf } from './errors'

/** The service does not offer the call at all (some S3-compatible servers). */
const unsupported = (err: unknown) =>
  (err as Error)?.name === 'NotImplemented' ||
  (err as Error)?.name === 'MethodNotAllowed' ||
  statusOf(err) === 501 ||
  statusOf(err) === 405

/** Bytes the upload's parts hold; 0 when the service cannot tell. */
async function partBytes(
  client: S3Client,
  cfg: S3Config,
  upload: Required<Pick<MultipartUpload, 'Key' | 'UploadId'>>,
  signal: AbortSignal,
): Promise<number> {
  let bytes = 0
  let marker: string | undefined
  try {
    do {
      const page = await client.send(
        new ListPartsCommand({
          Bucket: cfg.bucket,
          Key: upload.Key,
          UploadId: upload.UploadId,
          PartNumberMarker: marker,
        }),
        { abortSignal: signal },
      )
      for (const part of page.Parts ?? []) bytes += part.Size ?? 0
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
    } while (marker)
  } catch (err) {
    if (signal.aborted) throw new PluginAbortedError()
    if (!unsupported(err)) throw describeS3Error(err, cfg)
  }
  return bytes
}

export async function abortStaleUploads(
  cfg: S3Config,
  olderThanMs: number,
  ctx: PluginContext,
): Promise<CleanupResult> {
  const client = clientFor(cfg)
  const base = listBase(cfg)
  const cutoff = Date.now() - olderThanMs
  const result = { removed: 0, bytes: 0 }
  const signal = ctx.signal
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  try {
    do {
      if (signal.aborted) throw new PluginAbortedError()
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: cfg.bucket,
          Prefix: base,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
        { abortSignal: signal },
      )
      for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
        if (!Key || !UploadId || !Initiated || Initiated.getTime() > cutoff) continue
        // Only what a put of this store could have started.
        if (!Key.startsWith(base) || !KEY_PATTERN.test(Key.slice(base.length))) continue
        const bytes = await partBytes(client, cfg, { Key, UploadId }, signal)
        try {
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: cfg.bucket, Key, UploadId }),
            { abortSignal: signal },
          )
        } catch (err) {
          if ((err as Error).name === 'NoSuchUpload' || statusOf(err) === 404) continue // gone meanwhile
          throw err
        }
        result.removed++
        result.bytes += bytes
      }
      const more = page.IsTruncated === true
      keyMarker = more ? page.NextKeyMarker : undefined
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined
    } while (keyMarker)
  } catch (err) {
    if (signal.aborted) throw new PluginAbortedError()
    if (unsupported(err)) {
      ctx.log(
        `the S3 service at ${whereOf(cfg)} cannot list incomplete multipart uploads, so Bulwark cannot remove them; ` +
          `a lifecycle rule with AbortIncompleteMultipartUpload on bucket ${cfg.bucket} does it instead`,
      )
      return result
    }
    throw describeS3Error(err, cfg)
  }
  return result
}
