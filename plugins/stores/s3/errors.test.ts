// Store `s3` without s3rver: how endpoints are read, how SDK errors are put
// into words (including what s3rver cannot produce, such as a bad signature),
// and that throttling goes through the SDK's retries and comes out transient.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { S3ServiceException } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { testContext } from '../../sdk/conformance/services'
import type { Endpoint, StorePlugin } from '../../sdk/types'
import { MAX_ATTEMPTS } from './client'
import { MiB, configOf } from './config'
import { describeS3Error } from './errors'
import s3Store from './index'

const store = s3Store.plugin as StorePlugin
const SECRET = 'not-the-secret-Zq9vXw'

describe('store s3: a throttling server', () => {
  let server: Server
  let hits = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++
      res.writeHead(503, { 'content-type': 'application/xml' })
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      )
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  })
  afterAll(() => new Promise((r) => server.close(r)))

  it('is retried by the SDK, then reported as transient', async () => {
    const ep = {
      bucket: 'acme',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      force_path_style: true,
      access_key_id: 'AK',
      secret_access_key: SECRET,
    }
    const err = await store.get(ep, 'k', testContext()).then(
      () => new Error('resolved'),
      (e: Error) => e,
    )
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe('S3 is throttling requests to bucket acme (SlowDown); try again later')
    expect((err as PluginError).kind).toBe('transient')
    expect(hits).toBe(MAX_ATTEMPTS)
  })
})

describe('store s3: error words', () => {
  const cfg = configOf({
    bucket: 'acme',
    region: 'eu-west-1',
    access_key_id: 'AK',
    secret_access_key: SECRET,
  })
  const s3err = (name: string, status: number, message = name) =>
    new S3ServiceException({
      name,
      message,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
    })
  const map = (err: unknown) => describeS3Error(err, cfg) as PluginError

  it('maps S3 error responses', () => {
    for (const code of ['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'Forbidden']) {
      expect(map(s3err(code === 'Forbidden' ? 'Unknown' : code, 403)).message).toBe(
        'S3 refused the credentials for bucket acme (check access_key_id and secret_access_key)',
      )
    }
    expect(map(s3err('AccessDenied', 403)).message).toContain(
      'S3 refused the credentials for bucket acme (check access_key_id and secret_access_key, and',
    )
    expect(map(s3err('NoSuchBucket', 404)).message).toBe(
      'bucket acme does not exist at AWS region eu-west-1',
    )
    expect(map(s3err('RequestTimeTooSkewed', 403)).message).toContain('clock')
    expect(map(s3err('PermanentRedirect', 301)).message).toContain('set region')
    for (const [code, status] of [
      ['SlowDown', 503],
      ['InternalError', 500],
      ['Unknown', 502],
      ['TooManyRequests', 429],
    ] as const) {
      expect(map(s3err(code, status)).kind, code).toBe('transient')
    }
    expect(map(s3err('InvalidArgument', 400)).kind).toBe('permanent')
    // 501: the service lacks the call; asking again will not help.
    expect(map(s3err('NotImplemented', 501)).kind).toBe('permanent')
    expect(map(s3err('NotImplemented', 501)).message).toContain('does not implement')
    expect(map(s3err('InvalidArgument', 400, `bad ${SECRET}`)).message).not.toContain(SECRET)
  })

  it('maps network and credential-chain failures', () => {
    const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code })
    expect(map(net('ENOTFOUND')).message).toBe(
      'cannot reach S3 endpoint https://s3.eu-west-1.amazonaws.com: host name not found',
    )
    expect(map(net('ECONNRESET')).kind).toBe('transient')
    expect(map(net('CERT_HAS_EXPIRED')).message).toContain('TLS certificate is not trusted')
    const timeout = Object.assign(
      new Error('Socket timed out without establishing a connection within 5000 ms'),
      { name: 'TimeoutError' },
    )
    expect(map(timeout).message).toBe(
      'cannot reach S3 endpoint https://s3.eu-west-1.amazonaws.com: Socket timed out without establishing a connection within 5000 ms',
    )
    expect(map(timeout).kind).toBe('transient')
    const noCreds = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    })
    expect(map(noCreds).message).toContain('no credentials for bucket acme')
    const abort = Object.assign(new Error('x'), { name: 'AbortError' })
    expect(map(abort)).toBeInstanceOf(PluginAbortedError)
  })

  it('says where the credentials came from when none were set', () => {
    const chain = configOf({ bucket: 'acme' })
    expect(describeS3Error(s3err('InvalidAccessKeyId', 403), chain).message).toContain(
      'default AWS credential chain',
    )
  })
})

describe('store s3: endpoint fields', () => {
  it('refuses endpoints it cannot use, in words', () => {
    const bad = (fields: Endpoint) => () => configOf(fields)
    expect(bad({})).toThrow('bucket is required')
    expect(bad({ bucket: 's3://acme' })).toThrow('bucket must be a bucket name')
    expect(bad({ bucket: 'acme', access_key_id: 'AK' })).toThrow(
      'set both access_key_id and secret_access_key',
    )
    expect(bad({ bucket: 'acme', endpoint: 'minio:9000' })).toThrow('endpoint must be a URL')
    expect(bad({ bucket: 'acme', endpoint: 'https://u:p@minio' })).toThrow('must not contain')
    expect(bad({ bucket: 'acme', part_size_mb: 4 })).toThrow(
      'part_size_mb must be a whole number from 5',
    )
    expect(bad({ bucket: 'acme', checksum_mode: 'always' })).toThrow('checksum_mode must be')
  })

  it('applies defaults and normalizes the prefix and endpoint', () => {
    expect(configOf({ bucket: 'acme', prefix: '/a//b/', endpoint: 'http://h:9000/' })).toEqual({
      bucket: 'acme',
      prefix: 'a/b',
      region: 'us-east-1',
      endpoint: 'http://h:9000',
      accessKeyId: undefined,
      secretAccessKey: undefined,
      forcePathStyle: false,
      checksumMode: 'when_supported',
      partSize: 64 * MiB,
    })
    expect(configOf({ bucket: 'acme', part_size_mb: '525' }).partSize).toBe(525 * MiB)
  })
})
