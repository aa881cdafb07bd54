// Store `s3`: archives as objects in an S3 bucket (Amazon S3 or any
// S3-compatible service), under an optional prefix. A put streams through
// lib-storage's Upload: a small body is one PutObject, a large one a multipart
// upload of part_size_mb parts, two in flight, so memory stays near 3 parts
// whatever the size. The object appears only when the upload completes; on
// failure or abort the multipart upload is aborted, so nothing is left; what a
// crash leaves, cleanup removes (cleanup.ts). The put is in put.ts.
import { Readable, Transform } from 'node:stream'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
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
import { clientFor } from './client'
import { configOf, listBase, objectKeyOf } from './config'
import { failure, statusOf } from './errors'
import { test } from './probe'
import { put } from './put'

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
