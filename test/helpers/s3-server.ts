// A real S3-compatible server for tests: s3rver (an npm devDependency, so it
// is always there) on 127.0.0.1 with an ephemeral port and a temporary
// directory, with one bucket created. Stores and the target×store matrix use
// it through startS3Server(); storeEndpoint() gives the `s3` store's fields.
//
// What s3rver 3.7 does not do, so tests cannot rely on it: it checks the
// access key id but not SigV4 signatures (a wrong secret with the right key
// id is accepted), and it implements neither ListMultipartUploads nor
// AbortMultipartUpload (405 MethodNotAllowed). `requests` records every
// request so a test can still see which calls a plugin made.
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface S3rverInstance {
  run(): Promise<AddressInfo>
  close(): Promise<void>
  httpServer?: Server
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance

// s3rver is CommonJS and ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass

export interface S3Request {
  method: string
  /** Path and query string, e.g. `/bucket/key?uploadId=...`. */
  url: string
}

export interface S3TestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  endpoint: string
  /** The bucket created at start. */
  bucket: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  /** Where s3rver keeps its objects (removed by stop()). */
  directory: string
  /** Every request received so far, oldest first. */
  requests: S3Request[]
  /**
   * An endpoint for the `s3` store plugin pointing at this server's bucket;
   * `fields` override or add to it (prefix, part_size_mb, other credentials...).
   */
  storeEndpoint(fields?: Record<string, unknown>): Record<string, unknown>
  /** Stops the server, drops open connections and deletes its directory. */
  stop(): Promise<void>
}

export interface S3ServerOptions {
  /** Name of the bucket to create; default `bulwark-test`. */
  bucket?: string
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'bulwark-test'
  const directory = await mkdtemp(join(tmpdir(), 'bulwark-s3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  })
  let address: AddressInfo
  try {
    address = await server.run()
  } catch (err) {
    await rm(directory, { recursive: true, force: true })
    throw err
  }
  const requests: S3Request[] = []
  server.httpServer?.prependListener('request', (req) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' })
  })
  const endpoint = `http://127.0.0.1:${address.port}`
  const accessKeyId = 'S3RVER'
  const secretAccessKey = 'S3RVER'
  const region = 'us-east-1'
  let stopped = false

  return {
    endpoint,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    directory,
    requests,
    storeEndpoint: (fields = {}) => ({
      bucket,
      region,
      endpoint,
      access_key_id: accessKeyId,
      secret_access_key: secretAccessKey,
      force_path_style: true,
      // s3rver would store aws-chunked framing of streamed bodies as data.
      checksum_mode: 'when_required',
      ...fields,
    }),
    async stop() {
      if (stopped) return
      stopped = true
      const closing = server.close()
      server.httpServer?.closeAllConnections()
      await closing
      await rm(directory, { recursive: true, force: true })
    },
  }
}
