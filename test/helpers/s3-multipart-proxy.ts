// s3rver (test/helpers/s3-server.ts) stores incomplete multipart uploads but
// answers ListMultipartUploads with 501 and AbortMultipartUpload and ListParts
// with 405, so a store's cleanup of interrupted uploads cannot be tested
// against it alone. This proxy sits in front of it, forwards every request,
// and serves those three calls itself from s3rver's own upload directory
// (<directory>/<bucket>/._S3rver_uploads/<uploadId>/{key, 1, 2, ...}), so an
// aborted upload's parts really are gone afterwards.
import { readFile, readdir, rm, stat } from 'node:fs/promises'
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { S3TestServer } from './s3-server'

export interface MultipartProxy {
  /** Base URL of the proxy. */
  endpoint: string
  /** s3.storeEndpoint(fields), pointing at the proxy. */
  storeEndpoint(fields?: Record<string, unknown>): Record<string, unknown>
  stop(): Promise<void>
}

interface Upload {
  key: string
  uploadId: string
  initiated: Date
  dir: string
}

const xml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export async function startMultipartProxy(s3: S3TestServer): Promise<MultipartProxy> {
  const uploadsDir = join(s3.directory, s3.bucket, '._S3rver_uploads')
  const upstream = new URL(s3.endpoint)

  async function uploads(): Promise<Upload[]> {
    const ids = await readdir(uploadsDir).catch(() => [] as string[])
    const found: Upload[] = []
    for (const uploadId of ids) {
      const dir = join(uploadsDir, uploadId)
      try {
        const key = await readFile(join(dir, 'key'), 'utf8')
        found.push({ key, uploadId, initiated: (await stat(join(dir, 'key'))).mtime, dir })
      } catch {
        // completed or aborted meanwhile
      }
    }
    return found.sort((a, b) => a.key.localeCompare(b.key) || a.uploadId.localeCompare(b.uploadId))
  }

  function send(res: ServerResponse, status: number, body = '') {
    res.writeHead(status, { 'content-type': 'application/xml' })
    res.end(body ? `<?xml version="1.0" encoding="UTF-8"?>${body}` : undefined)
  }

  async function listUploads(q: URLSearchParams, res: ServerResponse) {
    const prefix = q.get('prefix') ?? ''
    const max = Number(q.get('max-uploads') ?? 1000)
    const keyMarker = q.get('key-marker') ?? ''
    const idMarker = q.get('upload-id-marker') ?? ''
    const all = (await uploads()).filter(
      (u) =>
        u.key.startsWith(prefix) &&
        (u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker)),
    )
    const page = all.slice(0, max)
    const truncated = all.length > page.length
    const last = page.at(-1)
    send(
      res,
      200,
      `<ListMultipartUploadsResult><Bucket>${s3.bucket}</Bucket><Prefix>${xml(prefix)}</Prefix>` +
        `<MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
        (truncated && last
          ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>`
          : '') +
        page
          .map(
            (u) =>
              `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId>` +
              `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
          )
          .join('') +
        '</ListMultipartUploadsResult>',
    )
  }

  async function find(key: string, uploadId: string | null): Promise<Upload | undefined> {
    return (await uploads()).find((u) => u.uploadId === uploadId && u.key === key)
  }

  const noSuchUpload = (res: ServerResponse) =>
    send(res, 404, '<Error><Code>NoSuchUpload</Code><Message>no such upload</Message></Error>')

  async function listParts(key: string, q: URLSearchParams, res: ServerResponse) {
    const upload = await find(key, q.get('uploadId'))
    if (!upload) return noSuchUpload(res)
    const numbers = (await readdir(upload.dir))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b)
    const parts: string[] = []
    for (const n of numbers) {
      const size = (await stat(join(upload.dir, String(n)))).size
      parts.push(`<Part><PartNumber>${n}</PartNumber><Size>${size}</Size></Part>`)
    }
    send(
      res,
      200,
      `<ListPartsResult><Bucket>${s3.bucket}</Bucket><Key>${xml(key)}</Key>` +
        `<UploadId>${upload.uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`,
    )
  }

  async function abort(key: string, q: URLSearchParams, res: ServerResponse) {
    const upload = await find(key, q.get('uploadId'))
    if (!upload) return noSuchUpload(res)
    await rm(upload.dir, { recursive: true, force: true })
    send(res, 204)
  }

  function forward(req: IncomingMessage, res: ServerResponse) {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    out.once('error', () => res.destroy())
    req.once('error', () => out.destroy())
    res.once('close', () => {
      if (!res.writableFinished) out.destroy()
    })
    req.pipe(out)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const q = url.searchParams
    const bucketPath = `/${s3.bucket}`
    const key = url.pathname.startsWith(`${bucketPath}/`)
      ? decodeURIComponent(url.pathname.slice(bucketPath.length + 1))
      : ''
    let handled: Promise<void> | undefined
    if (req.method === 'GET' && !key && q.has('uploads')) handled = listUploads(q, res)
    else if (req.method === 'GET' && key && q.has('uploadId')) handled = listParts(key, q, res)
    else if (req.method === 'DELETE' && key && q.has('uploadId')) handled = abort(key, q, res)
    if (!handled) return forward(req, res)
    req.resume()
    s3.requests.push({ method: req.method ?? '', url: req.url ?? '' })
    handled.catch((err: Error) =>
      send(
        res,
        500,
        `<Error><Code>InternalError</Code><Message>${xml(err.message)}</Message></Error>`,
      ),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    endpoint,
    storeEndpoint: (fields = {}) => s3.storeEndpoint({ endpoint, ...fields }),
    async stop() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
