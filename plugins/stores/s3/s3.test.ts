// Store `s3` against a real S3-compatible server (s3rver, started by
// test/helpers/s3-server.ts): the shared conformance suite, then what is
// particular to S3: multipart streaming, abort cleanup, error wording,
// prefixes. s3rver is a devDependency, so nothing here ever skips; the error
// mapping on its own is in errors.test.ts.
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError, PluginNotFoundError } from '../../sdk/errors'
import { readAll, rejection, testContext } from '../../sdk/conformance/services'
import { storeConformance } from '../../sdk/conformance/store-suite'
import type { Endpoint, StorePlugin } from '../../sdk/types'
import { startS3Server, type S3TestServer } from '../../../test/helpers/s3-server'
import { startMultipartProxy, type MultipartProxy } from '../../../test/helpers/s3-multipart-proxy'
import { s3InterruptedPut } from '../../../test/helpers/interrupted-puts'
import { waitFor } from '../../../test/helpers/wait'
import s3Store from './index'

const MiB = 1024 * 1024
let s3: S3TestServer
let proxy: MultipartProxy
let raw: S3Client
beforeAll(async () => {
  s3 = await startS3Server()
  proxy = await startMultipartProxy(s3)
  raw = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  })
})
afterAll(async () => {
  raw?.destroy()
  await proxy?.stop()
  await s3?.stop()
})

// Through the proxy, which adds the multipart-upload listing s3rver lacks, so
// cleanup is checked too.
storeConformance('s3', () => proxy.storeEndpoint({ prefix: 'conformance/run' }), {
  interruptedPut: s3InterruptedPut,
})

const store = s3Store.plugin as StorePlugin
const ctx = () => testContext()
const unique = () => `t-${randomBytes(4).toString('hex')}`
const putText = (ep: Endpoint, key: string, text: string) =>
  store.put(ep, key, Readable.from([Buffer.from(text)]), ctx())
const getText = async (ep: Endpoint, key: string) =>
  (await readAll(await store.get(ep, key, ctx()))).toString()
async function keys(ep: Endpoint, prefix = ''): Promise<string[]> {
  const found: string[] = []
  for await (const o of store.list(ep, prefix, ctx())) found.push(o.key)
  return found.sort()
}

/** Generated data, made only as it is read, hashed on the way; never held whole. */
function source(size: number, delayMs = 0, failAt?: number) {
  const hash = createHash('sha256')
  let made = 0
  const stream = new Readable({
    read() {
      const emit = () => {
        if (this.destroyed) return
        if (failAt !== undefined && made >= failAt)
          return void this.destroy(new Error('source broke'))
        if (made >= size) return void this.push(null)
        const chunk = randomBytes(Math.min(256 * 1024, size - made))
        made += chunk.length
        hash.update(chunk)
        this.push(chunk)
      }
      if (delayMs) setTimeout(emit, delayMs)
      else emit()
    },
  })
  return { stream, made: () => made, digest: () => hash.digest('hex') }
}

/** Requests for key made after `since`, as `METHOD ?query`. */
const requestsFor = (key: string, since: number) =>
  s3.requests
    .slice(since)
    .filter((r) => r.url.split('?')[0] === `/${s3.bucket}/${key}`)
    .map((r) => `${r.method} ?${r.url.split('?')[1] ?? ''}`)

describe('store s3', () => {
  it('streams 80 MiB through a multipart upload and back unchanged', async () => {
    const ep = s3.storeEndpoint({ prefix: unique() }) // default part size: 64 MiB
    const key = 'big/dump.bin'
    const since = s3.requests.length
    const src = source(80 * MiB)
    expect(await store.put(ep, key, src.stream, ctx())).toEqual({ key, size: 80 * MiB })
    const calls = requestsFor(`${ep.prefix}/${key}`, since)
    expect(calls[0]).toBe('POST ?uploads=') // CreateMultipartUpload, then two parts, then Complete
    expect(calls.filter((c) => c.startsWith('PUT ?') && c.includes('partNumber'))).toHaveLength(2)
    expect(calls.at(-1)).toMatch(/^POST \?uploadId=/)

    expect(await store.head(ep, key, ctx())).toEqual({ key, size: 80 * MiB })
    const back = createHash('sha256')
    let length = 0
    for await (const chunk of await store.get(ep, key, ctx())) {
      back.update(chunk as Buffer)
      length += (chunk as Buffer).length
    }
    expect(length).toBe(80 * MiB)
    expect(back.digest('hex')).toBe(src.digest())
    await store.delete(ep, key, ctx())
  })

  it('a put aborted mid-upload stops, leaves no object and aborts the multipart upload', async () => {
    const ep = s3.storeEndpoint({ prefix: unique(), part_size_mb: 5 })
    const key = 'cancel/me.bin'
    const objectKey = `${ep.prefix}/${key}`
    const since = s3.requests.length
    const src = source(100 * MiB, 2) // about 100 MiB/s at most
    const c = ctx()
    const pending = store.put(ep, key, src.stream, c)
    while (src.made() < 20 * MiB) await new Promise((r) => setTimeout(r, 5))
    const abortedAt = Date.now()
    c.controller.abort()
    expect(await rejection(pending)).toBeInstanceOf(PluginAbortedError)
    expect(Date.now() - abortedAt).toBeLessThan(3000)
    const made = src.made()
    // That nothing more is read is the point: a quiet moment is the only way to see it.
    await new Promise((r) => setTimeout(r, 200))
    expect(src.made()).toBe(made) // stopped reading the source
    expect(made).toBeLessThan(40 * MiB)

    const calls = requestsFor(objectKey, since)
    expect(await store.head(ep, key, ctx())).toBeNull()
    expect(await keys(ep)).toEqual([])
    const uploadId = /uploadId=([^&]+)/.exec(calls.find((c) => c.includes('partNumber')) ?? '')?.[1]
    expect(uploadId).toBeDefined() // parts had gone out: there was an upload to abort
    const listing = await raw
      .send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: objectKey }))
      .catch((err: Error) => err)
    if (listing instanceof Error) {
      // s3rver implements neither ListMultipartUploads (501) nor AbortMultipartUpload
      // (405): all that can be checked is that the abort was sent, last, and logged.
      expect(listing.name).toBe('NotImplemented')
      expect(calls.at(-1)).toMatch(new RegExp(`^DELETE \\?uploadId=${uploadId}(&|$)`))
      expect(c.lines.join('\n')).toContain('could not abort the unfinished multipart upload')
    } else {
      expect(listing.Uploads ?? []).toEqual([])
    }
  })

  it('an abort cancels part uploads still in flight (a server that never answers them)', async () => {
    // s3rver stores parts too fast to catch one in flight; this server holds them.
    const seen: string[] = []
    let cancelledParts = 0
    const server = createServer((req, res) => {
      const call = `${req.method} ${req.url?.split('?')[1] ?? ''}`
      seen.push(call)
      if (req.method === 'POST' && call.includes('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' })
        res.end(
          '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>held</UploadId></InitiateMultipartUploadResult>',
        )
      } else if (req.method === 'PUT') {
        req.resume() // take the body, never answer
        req.once('close', () => void (res.writableEnded || cancelledParts++))
      } else {
        res.writeHead(204).end()
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const ep = s3.storeEndpoint({ endpoint, part_size_mb: 5 })
      const c = ctx()
      const src = source(100 * MiB)
      const pending = store.put(ep, 'k', src.stream, c)
      while (seen.filter((s) => s.startsWith('PUT')).length < 2) {
        await new Promise((r) => setTimeout(r, 5))
      }
      const abortedAt = Date.now()
      c.controller.abort()
      expect(await rejection(pending)).toBeInstanceOf(PluginAbortedError)
      expect(Date.now() - abortedAt).toBeLessThan(2000)
      // The parts' connections close and the upload is aborted on the server just
      // after the put rejects: wait for both.
      await waitFor('the parts to be cancelled and the upload aborted', () =>
        cancelledParts >= 2 && seen.at(-1)?.startsWith('DELETE') ? true : undefined,
      )
      expect(cancelledParts).toBe(2)
      expect(seen.at(-1)).toMatch(/^DELETE uploadId=held/)
      expect(src.made()).toBeLessThan(20 * MiB) // two parts in flight, one being filled
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  it('a source failing after several parts rejects with its error and aborts the upload', async () => {
    const ep = s3.storeEndpoint({ prefix: unique(), part_size_mb: 5 })
    const since = s3.requests.length
    const err = await rejection(store.put(ep, 'x', source(30 * MiB, 0, 12 * MiB).stream, ctx()))
    expect(err.message).toBe('source broke')
    expect(requestsFor(`${ep.prefix}/x`, since).at(-1)).toMatch(/^DELETE \?uploadId=/)
    expect(await store.head(ep, 'x', ctx())).toBeNull()
  })

  it('checksum_mode when_supported round-trips too (parts are sent whole, not aws-chunked)', async () => {
    const ep = s3.storeEndpoint({
      prefix: unique(),
      part_size_mb: 5,
      checksum_mode: 'when_supported',
    })
    const src = source(12 * MiB)
    await store.put(ep, 'k', src.stream, ctx())
    const back = await readAll(await store.get(ep, 'k', ctx()))
    expect(back.length).toBe(12 * MiB)
    expect(createHash('sha256').update(back).digest('hex')).toBe(src.digest())
    expect(await store.head(ep, 'k', ctx())).toEqual({ key: 'k', size: 12 * MiB })
  })

  it('keeps stores with different prefixes apart in one bucket', async () => {
    const id = unique()
    const a = s3.storeEndpoint({ prefix: `${id}/a` })
    const ab = s3.storeEndpoint({ prefix: `/${id}//ab/` }) // normalized to `${id}/ab`
    const whole = s3.storeEndpoint()
    await putText(a, 'shared/key', 'from a')
    await putText(ab, 'shared/key', 'from ab')
    await putText(ab, 'only-ab', 'x')
    expect(await getText(a, 'shared/key')).toBe('from a')
    expect(await getText(ab, 'shared/key')).toBe('from ab')
    expect(await keys(a)).toEqual(['shared/key'])
    expect(await keys(ab)).toEqual(['only-ab', 'shared/key'])
    expect(await keys(whole, `${id}/`)).toEqual([
      `${id}/a/shared/key`,
      `${id}/ab/only-ab`,
      `${id}/ab/shared/key`,
    ])
    expect(await store.head(a, 'only-ab', ctx())).toBeNull()
    await store.delete(a, 'shared/key', ctx())
    expect(await getText(ab, 'shared/key')).toBe('from ab')
  })

  it('cleanup aborts incomplete uploads under its prefix initiated before the cutoff', async () => {
    const id = unique()
    const ep = proxy.storeEndpoint({ prefix: `${id}/mine` })
    const other = proxy.storeEndpoint({ prefix: `${id}/mine-too` }) // shares the string prefix
    await putText(ep, 'done', 'complete')
    await s3InterruptedPut.leave(ep, 'a/partial')
    await s3InterruptedPut.leave(ep, 'b')
    await s3InterruptedPut.leave(other, 'b')
    expect(await store.cleanup!(ep, 3_600_000, ctx())).toEqual({ removed: 0, bytes: 0 })
    expect(await s3InterruptedPut.count(ep)).toBe(2)
    const c = ctx()
    expect(await store.cleanup!(ep, 0, c)).toEqual({ removed: 2, bytes: 2 * 64 * 1024 })
    expect(await s3InterruptedPut.count(ep)).toBe(0)
    expect(await s3InterruptedPut.count(other)).toBe(1)
    expect(await getText(ep, 'done')).toBe('complete')
    expect(c.lines).toEqual([])
  })

  it('cleanup on a service without ListMultipartUploads says so and removes nothing', async () => {
    const c = ctx()
    expect(await store.cleanup!(s3.storeEndpoint({ prefix: unique() }), 0, c)).toEqual({
      removed: 0,
      bytes: 0,
    })
    expect(c.lines.join('\n')).toContain('cannot list incomplete multipart uploads')
  })

  it('get of a missing key rejects with PluginNotFoundError, a missing bucket does not', async () => {
    const err = await rejection(store.get(s3.storeEndpoint({ prefix: unique() }), 'k', ctx()))
    expect(err).toBeInstanceOf(PluginNotFoundError)
    const noBucket = s3.storeEndpoint({ bucket: 'no-such-bucket' })
    const other = await rejection(store.get(noBucket, 'k', ctx()))
    expect(other).toBeInstanceOf(PluginError)
    expect(other).not.toBeInstanceOf(PluginNotFoundError)
  })

  it('test() probes read and write, and leaves nothing behind', async () => {
    const ep = s3.storeEndpoint({ prefix: unique() })
    expect(await store.test(ep, ctx())).toBe(
      `bucket ${s3.bucket} at ${s3.endpoint}: read and write OK`,
    )
    const left = await raw.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${ep.prefix}/` }),
    )
    expect(left.Contents ?? []).toEqual([])
  })
})

describe('store s3: errors', () => {
  const SECRET = 'not-the-secret-Zq9vXw'

  /** Runs every store call on ep; each must reject with a PluginError of this message and kind. */
  async function expectAll(
    ep: Endpoint,
    message: string,
    kind: 'permanent' | 'transient',
    calls = ['put', 'get', 'list', 'delete', 'test'],
  ) {
    const run: Record<string, () => Promise<unknown>> = {
      put: () => putText(ep, 'k', 'x'),
      get: () => store.get(ep, 'k', ctx()),
      head: () => store.head(ep, 'k', ctx()),
      list: () => keys(ep),
      delete: () => store.delete(ep, 'k', ctx()),
      test: () => store.test(ep, ctx()),
    }
    for (const call of calls) {
      const err = await rejection(run[call]!())
      expect(err, call).toBeInstanceOf(PluginError)
      expect(err.message, call).toBe(message)
      expect((err as PluginError).kind, call).toBe(kind)
      expect(err.message).not.toContain(SECRET)
    }
  }

  it('wrong credentials', async () => {
    // s3rver knows the key id S3RVER only; it does not verify SigV4 signatures,
    // so a wrong secret alone gets through there (errors.test.ts covers SignatureDoesNotMatch).
    const ep = s3.storeEndpoint({ access_key_id: 'AKIAWRONGKEY', secret_access_key: SECRET })
    await expectAll(
      ep,
      `S3 refused the credentials for bucket ${s3.bucket} (check access_key_id and secret_access_key)`,
      'permanent',
      ['put', 'get', 'head', 'list', 'delete', 'test'],
    )
  })

  it('a missing bucket', async () => {
    const ep = s3.storeEndpoint({ bucket: 'no-such-bucket', secret_access_key: SECRET })
    await expectAll(ep, `bucket no-such-bucket does not exist at ${s3.endpoint}`, 'permanent')
    // A HEAD answer has no body to tell a missing bucket from a missing object.
    expect(await store.head(ep, 'k', ctx())).toBeNull()
  })

  it('a missing bucket stops a large put at its first part', async () => {
    const ep = s3.storeEndpoint({ bucket: 'no-such-bucket', part_size_mb: 5 })
    const src = source(1024 * MiB)
    const err = await rejection(store.put(ep, 'k', src.stream, ctx()))
    expect(err.message).toBe(`bucket no-such-bucket does not exist at ${s3.endpoint}`)
    expect(src.made()).toBeLessThan(20 * MiB)
  })

  it('an unreachable endpoint fails fast, as transient', async () => {
    const started = Date.now()
    await expectAll(
      { ...s3.storeEndpoint({ secret_access_key: SECRET }), endpoint: 'http://127.0.0.1:1' },
      'cannot reach S3 endpoint http://127.0.0.1:1: connection refused',
      'transient',
      ['put', 'get', 'head', 'list', 'test'],
    )
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
