// Store `s3`: archives as objects in an S3 bucket (Amazon S3 or any
// S3-compatible service), under an optional prefix. A put streams through
// lib-storage's Upload: a small body is one PutObject, a large one a multipart
// upload of part_size_mb parts, two in flight, so memory stays near 3 parts
// whatever the size. The object appears only when the upload completes; on
// failure or abort the multipart upload is aborted, so nothing is left; what a
// crash leaves, cleanup removes (cleanup.ts).
import { Readable, Transform, pipeline } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { PluginAbortedError, PluginError, PluginNotFoundError } from '../../sdk/errors'
import {
  KEY_PATTERN,
  defineStore,
  type CleanupResult,
  type Endpoint,
  type GetOptions,
  type PluginContext,
  type StoreCapabilities,
  type StoredObject,
} from '../../sdk/types'
import { abortStaleUploads } from './cleanup'
import { clientFor, inPutScope } from './client'
import { MAX_PARTS, MiB, configOf, listBase, objectKeyOf, type S3Config } from './config'
import { describeS3Error, failure, statusOf } from './errors'
import { test } from './probe'

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

/** The range a get asks for, checked; undefined for the whole object. */
function rangeOf(opts: GetOptions | undefined): { offset: number; length: number } | undefined {
  const range = opts?.range
  if (!range) return undefined
  const { offset, length } = range
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new PluginError(`invalid range: offset ${offset}, length ${length}`)
  }
  return { offset, length }
}

async function get(
  endpoint: Endpoint,
  key: string,
  ctx: PluginContext,
  opts?: GetOptions,
): Promise<Readable> {
  const cfg = configOf(endpoint)
  const objectKey = objectKeyOf(cfg, key)
  const wanted = rangeOf(opts)
  if (ctx.signal.aborted) throw new PluginAbortedError()
  // S3 cannot be asked for zero bytes: an empty range asks for one (which
  // still tells a missing key) and sends none of it.
  const range = wanted && `bytes=${wanted.offset}-${wanted.offset + Math.max(wanted.length, 1) - 1}`
  // The request gets its own signal: once the body flows, an abort must end
  // the stream with PluginAbortedError, not with the socket's error.
  const request = new AbortController()
  const relay = () => request.abort()
  ctx.signal.addEventListener('abort', relay, { once: true })
  let body: Readable
  let served: number // where the bytes the server sends start
  try {
    const res = await clientFor(cfg).send(
      new GetObjectCommand({ Bucket: cfg.bucket, Key: objectKey, Range: range }),
      { abortSignal: request.signal },
    )
    body = (res.Body as Readable | undefined) ?? Readable.from([])
    served = Number(/^bytes (\d+)-/.exec(res.ContentRange ?? '')?.[1] ?? 0)
  } catch (err) {
    if (!ctx.signal.aborted && (err as Error).name === 'NoSuchKey') {
      throw new PluginNotFoundError(`no object ${objectKey} in bucket ${cfg.bucket}`, {
        cause: err,
      })
    }
    // A range starting at or past the end (or any range of an empty object).
    if (!ctx.signal.aborted && wanted && (err as Error).name === 'InvalidRange') {
      return Readable.from([])
    }
    throw failure(err, cfg, ctx.signal)
  } finally {
    ctx.signal.removeEventListener('abort', relay)
  }
  // A Transform in front, so that a connection lost mid-body surfaces as a
  // (transient) PluginError too. A server may ignore or widen a Range (HTTP
  // allows it; s3rver takes bytes=0-0 for everything), so bytes outside the
  // range asked for are dropped here.
  let skip = wanted ? Math.max(0, wanted.offset - served) : 0
  let left = wanted ? wanted.length : Infinity
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let part = chunk.subarray(Math.min(skip, chunk.length))
      skip -= chunk.length - part.length
      if (part.length > left) part = part.subarray(0, left)
      left -= part.length
      done(null, part.length > 0 ? part : undefined)
      if (left === 0 && wanted) {
        body.unpipe(out)
        out.end()
      }
    },
  })
  const onAbort = () => out.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  body.once('error', (err) => out.destroy(failure(err, cfg, ctx.signal)))
  out.once('close', () => {
    ctx.signal.removeEventListener('abort', onAbort)
    body.destroy()
  })
  if (wanted?.length === 0) out.end()
  else body.pipe(out)
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

async function cleanup(
  endpoint: Endpoint,
  olderThanMs: number,
  ctx: PluginContext,
): Promise<CleanupResult> {
  return abortStaleUploads(configOf(endpoint), olderThanMs, ctx)
}

/**
 * S3 answers each request in tens of milliseconds whatever else runs, so
 * parallel requests are what make many small objects fast; 16 stays well
 * within the client's sockets (a large put uses QUEUE_SIZE of them).
 */
const capabilities: StoreCapabilities = {
  vault: true,
  atomicPut: true,
  rangedGet: true,
  connections: 16,
}

export default defineStore({
  capabilities,
  put,
  get,
  head,
  delete: remove,
  list,
  test,
  cleanup,
})
