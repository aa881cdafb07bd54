// Store `s3`'s connection test: the bucket is there, and an object written
// under the store's prefix reads back the same and is deleted again.
import { randomBytes } from 'node:crypto'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { PluginError } from '../../sdk/errors'
import type { Endpoint, PluginContext } from '../../sdk/types'
import { clientFor } from './client'
import { configOf, listBase, whereOf } from './config'
import { failure } from './errors'

/** How long deleting the probe after a failure may take before it gives up. */
const CLEANUP_TIMEOUT_MS = 15_000

export async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
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
