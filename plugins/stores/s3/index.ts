// Store `s3`: archives as objects in an S3 bucket (Amazon S3 or any
// S3-compatible service), under an optional prefix. A put streams through
// lib-storage's Upload: a small body is one PutObject, a large one a multipart
// upload of part_size_mb parts, two in flight, so memory stays near 3 parts
// whatever the size. The object appears only when the upload completes; on
// failure or abort the multipart upload is aborted, so nothing is left.
import { randomBytes } from 'node:crypto'
import { Readable, Transform, pipeline } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import {
  KEY_PATTERN,
  defineStore,
  type Endpoint,
  type PluginContext,
  type StoredObject,
} from '../../sdk/types'
import { clientFor, inPutScope } from './client'
import { MAX_PARTS, MiB, configOf, listBase, objectKeyOf, whereOf, type S3Config } from './config'
import { describeS3Error } from './errors'

/** Parts uploaded at once; memory ≈ (QUEUE_SIZE + 1) × part size. */
const QUEUE_SIZE = 2
/** How long cleanup after a failed put may take before it gives up. */
const CLEANUP_TIMEOUT_MS = 15_000

const statusOf = (err: unknown) =>
  (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode

/** The error a call rejects with: abort wins, everything else is described. */
const failure = (err: unknown, cfg: S3Config, signal: AbortSignal) =>
  signal.aborted ? new PluginAbortedError() : describeS3Error(err, cfg)

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

async function put(
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

async function get(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<Readable> {
  const cfg = configOf(endpoint)
  const objectKey = objectKeyOf(cfg, key)
  if (ctx.signal.aborted) throw new PluginAbortedError()
  // The request gets its own signal: once the body flows, an abort must end
  // the stream with PluginAbortedError, not with the socket's error.
  const request = new AbortController()
  const relay = () => request.abort()
  ctx.signal.addEventListener('abort', relay, { once: true })
  let body: Readable
  try {
    const res = await clientFor(cfg).send(
      new GetObjectCommand({ Bucket: cfg.bucket, Key: objectKey }),
      { abortSignal: request.signal },
    )
    body = (res.Body as Readable | undefined) ?? Readable.from([])
  } catch (err) {
    if (!ctx.signal.aborted && (err as Error).name === 'NoSuchKey') {
      throw new PluginError(`no object ${objectKey} in bucket ${cfg.bucket}`, 'permanent', {
        cause: err,
      })
    }
    throw failure(err, cfg, ctx.signal)
  } finally {
    ctx.signal.removeEventListener('abort', relay)
  }
  // A PassThrough in front, so that a connection lost mid-body surfaces as a
  // (transient) PluginError too.
  const out = new Transform({ transform: (chunk, _encoding, done) => done(null, chunk) })
  const onAbort = () => out.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  body.once('error', (err) => out.destroy(failure(err, cfg, ctx.signal)))
  out.once('close', () => {
    ctx.signal.removeEventListener('abort', onAbort)
    body.destroy()
  })
  body.pipe(out)
  if (ctx.signal.aborted) onAbort()
  return out
}

async function head(
  endpoint: Endpoint,
  key: string,
  ctx: PluginContext,
): Promise<StoredObject | null> {
  const cfg = configOf(endpoint)
  const objectKey = objectKeyOf(cfg, key)
  try {
    const res = await clientFor(cfg).send(
      new HeadObjectCommand({ Bucket: cfg.bucket, Key: objectKey }),
      { abortSignal: ctx.signal },
    )
    return { key, size: res.ContentLength ?? 0 }
  } catch (err) {
    // A HEAD response has no body, so a missing bucket looks the same; put and get tell.
    if (!ctx.signal.aborted && statusOf(err) === 404) return null
    throw failure(err, cfg, ctx.signal)
  }
}

async function remove(endpoint: Endpoint, key: string, ctx: PluginContext): Promise<void> {
  const cfg = configOf(endpoint)
  const objectKey = objectKeyOf(cfg, key)
  try {
    await clientFor(cfg).send(new DeleteObjectCommand({ Bucket: cfg.bucket, Key: objectKey }), {
      abortSignal: ctx.signal,
    })
  } catch (err) {
    if (!ctx.signal.aborted && (err as Error).name === 'NoSuchKey') return
    throw failure(err, cfg, ctx.signal)
  }
}

async function* list(
  endpoint: Endpoint,
  prefix: string,
  ctx: PluginContext,
): AsyncIterable<StoredObject> {
  const cfg = configOf(endpoint)
  const client = clientFor(cfg)
  const base = listBase(cfg)
  let token: string | undefined
  do {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    let page
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: cfg.bucket,
          Prefix: base + prefix,
          ContinuationToken: token,
        }),
        { abortSignal: ctx.signal },
      )
    } catch (err) {
      throw failure(err, cfg, ctx.signal)
    }
    for (const object of page.Contents ?? []) {
      const key = object.Key?.startsWith(base) ? object.Key.slice(base.length) : undefined
      // Skips the probe of test() and anything else that no store key can name.
      if (key === undefined || !KEY_PATTERN.test(key)) continue
      yield { key, size: object.Size ?? 0 }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const cfg = configOf(endpoint)
  const client = clientFor(cfg)
  const Bucket = cfg.bucket
  // '~' is never in a store key, so the probe can collide with nothing and is never listed.
  const Key = `${listBase(cfg)}.bulwark-probe~${randomBytes(6).toString('hex')}`
  const content = randomBytes(32)
  const opts = { abortSignal: ctx.signal }
  let written = false
  try {
    await client.send(new HeadBucketCommand({ Bucket }), opts)
    await client.send(new PutObjectCommand({ Bucket, Key, Body: content }), opts)
    written = true
    const res = await client.send(new GetObjectCommand({ Bucket, Key }), opts)
    const back = Buffer.from((await res.Body?.transformToByteArray()) ?? [])
    if (!back.equals(content)) {
      throw new PluginError(
        `bucket ${Bucket} at ${whereOf(cfg)} does not return what was written to it; if the service is older MinIO, Ceph or similar, set checksum_mode to when_required`,
      )
    }
    await client.send(new DeleteObjectCommand({ Bucket, Key }), opts)
    written = false
  } catch (err) {
    if (written) {
      await client
        .send(new DeleteObjectCommand({ Bucket, Key }), {
          abortSignal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS),
        })
        .catch(() => undefined)
    }
    // HeadBucket's 404 has no body, hence no NoSuchBucket code.
    if (!ctx.signal.aborted && (err as Error).name === 'NotFound') {
      throw new PluginError(`bucket ${Bucket} does not exist at ${whereOf(cfg)}`, 'permanent', {
        cause: err,
      })
    }
    throw failure(err, cfg, ctx.signal)
  }
  return `bucket ${Bucket} at ${whereOf(cfg)}: read and write OK`
}

export default defineStore({ put, get, head, delete: remove, list, test })
