// What a put interrupted by a crash leaves in each built-in store, made the
// way the store's own put makes it, for the conformance suite's cleanup
// checks (its `interruptedPut` option) and for tests of GC's cleanup.
import { readdir, mkdir, writeFile } from 'node:fs/promises'
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { basename, dirname, join } from 'node:path'
import { TEMP_FILE, tempName } from '../../plugins/stores/fs/temp-files'
import type { Endpoint } from '../../plugins/sdk/types'

/** fs: the put's temporary file next to the object's name, part-written. */
export const fsInterruptedPut = {
  async leave(endpoint: Endpoint, key: string): Promise<void> {
    const file = join(endpoint.path as string, ...key.split('/'))
    await mkdir(dirname(file), { recursive: true })
    await writeFile(join(dirname(file), tempName(basename(file))), Buffer.alloc(1000, 7))
  },
  async count(endpoint: Endpoint): Promise<number> {
    const all = await readdir(endpoint.path as string, { recursive: true }).catch(() => [])
    return all.map(String).filter((p) => TEMP_FILE.test(basename(p))).length
  },
}

const s3Client = (ep: Endpoint) =>
  new S3Client({
    region: String(ep.region ?? 'us-east-1'),
    endpoint: ep.endpoint as string,
    forcePathStyle: true,
    credentials: {
      accessKeyId: ep.access_key_id as string,
      secretAccessKey: ep.secret_access_key as string,
    },
  })

const objectKey = (ep: Endpoint, key: string) => (ep.prefix ? `${String(ep.prefix)}/${key}` : key)

/**
 * s3: a multipart upload of the key, started, one part sent, never completed
 * (the store's put of anything over one part). Needs a server that lists
 * multipart uploads: test/helpers/s3-multipart-proxy.ts in front of s3rver.
 */
export const s3InterruptedPut = {
  async leave(endpoint: Endpoint, key: string): Promise<void> {
    const client = s3Client(endpoint)
    try {
      const Bucket = endpoint.bucket as string
      const Key = objectKey(endpoint, key)
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }))
      const Body = Buffer.alloc(64 * 1024, 7)
      await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body }))
    } finally {
      client.destroy()
    }
  },
  async count(endpoint: Endpoint): Promise<number> {
    const client = s3Client(endpoint)
    try {
      const Prefix = endpoint.prefix ? `${String(endpoint.prefix)}/` : ''
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket: endpoint.bucket as string, Prefix }),
      )
      return page.Uploads?.length ?? 0
    } finally {
      client.destroy()
    }
  },
}
