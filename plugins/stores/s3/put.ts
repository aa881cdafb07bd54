// The s3 store's put: the stream through lib-storage's Upload (one
// PutObject for a small body, else a multipart upload of part_size_mb parts,
// QUEUE_SIZE in flight), counted against the most one object may hold; on
// failure or abort every request is stopped first, then the multipart upload
// is aborted, so nothing is left under the key.
import { Transform, pipeline, type Readable } from 'node:stream'
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext, StoredObject } from '../../sdk/types'
import { clientFor, inPutScope } from './client'
import { MAX_PARTS, MiB, configOf, objectKeyOf, type S3Config } from './config'
import { describeS3Error } from './errors'

/** Parts uploaded at once; memory ≈ (QUEUE_SIZE + 1) × part size. */
const QUEUE_SIZE = 2
/** How long cleanup after a failed put may take before it gives up. */
const CLEANUP_TIMEOUT_MS = 15_000

async function abortUpload(
  client: S3Client,
  cfg: S3Config,
  key: string,
  uploadId: string,
  ctx: PluginContext,
): Promise<void> {
  try {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: cfg.bucket, Key: key, UploadId: uploadId }),
      { abortSignal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) },
    )
  } catch (err) {
    ctx.log(
      `could not abort the unfinished multipart upload of ${key} in bucket ${cfg.bucket} (${describeS3Error(err, cfg).message}); ` +
        'its parts stay in the bucket until a lifecycle rule with AbortIncompleteMultipartUpload removes them',
    )
  }
}

export async function put(
  endpoint: Endpoint,
  key: string,
  data: Readable,
  ctx: PluginContext,
): Promise<StoredObject> {
  let cfg: S3Config
  let objectKey: string
  try {
    cfg = configOf(endpoint)
    objectKey = objectKeyOf(cfg, key)
    if (ctx.signal.aborted) throw new PluginAbortedError()
  } catch (err) {
    data.destroy()
    throw err
  }
  const client = clientFor(cfg)
  const limit = cfg.partSize * MAX_PARTS
  const stop = new AbortController()
  let size = 0
  let sourceError: unknown
  let firstFailure: unknown

  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size <= limit) return done(null, chunk)
      firstFailure ??= new PluginError(
        `the stream is larger than ${MAX_PARTS} parts of ${cfg.partSize / MiB} MiB (${Math.round(limit / 1024 / MiB)} GiB) that one S3 object may have at this part size; raise part_size_mb`,
      )
      stop.abort() // parts in flight too
      done(firstFailure as Error)
    },
  })
  // Stops everything: in-flight requests (through the put scope), the source, the upload's reading.
  const halt = () => {
    if (!stop.signal.aborted) stop.abort()
    counter.destroy()
    data.destroy()
  }
  data.once('error', (err) => {
    sourceError ??= err
    halt()
  })
  pipeline(data, counter, () => undefined) // errors are recorded above
  ctx.signal.addEventListener('abort', halt, { once: true })

  const upload = new Upload({
    client,
    params: { Bucket: cfg.bucket, Key: objectKey, Body: counter },
    partSize: cfg.partSize,
    queueSize: QUEUE_SIZE,
    // Aborting is done here, after every part request has stopped (see below).
    leavePartsOnError: true,
  })
  try {
    const failed = (err: unknown) => {
      if ((err as Error)?.name !== 'AbortError') firstFailure ??= err
      halt()
    }
    await inPutScope({ signal: stop.signal, failed }, () => upload.done())
    return { key, size }
  } catch (err) {
    halt()
    // upload.done() settles only once no part is in flight any more, so the
    // abort cannot race a part that is still being stored.
    if (upload.uploadId) await abortUpload(client, cfg, objectKey, upload.uploadId, ctx)
    if (ctx.signal.aborted) throw new PluginAbortedError()
    if (sourceError) throw sourceError // the source's failure, not the store's to explain
    throw describeS3Error(firstFailure ?? err, cfg)
  } finally {
    ctx.signal.removeEventListener('abort', halt)
  }
}
