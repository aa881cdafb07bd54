// Downloading archives from the real daemon over HTTP (run in this process,
// so that its clock can move past a ticket's expiry): with the token, with a
// single-use ticket from download-link, and with `bulwark download archive`;
// and what a damaged or invalid archive does to a download.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fmtSize } from '../../src-daemon/cli/format'
import { runCli, tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const MiB = 1024 * 1024
const base = tempDir('bulwark-download-')
const clock = new TestClock()
let d: InProcessDaemon
let storeDir: string
let src: string
/** A files-target archive, and two exec-target ones: `cat x` and `cat x y`. */
let files: any
/** Bytes of the files archive's whole download: a tree archive comes as a tar of its entries. */
let filesTar: number
let first: any
let second: any
/** Chunk files the second exec archive added to the store (none of them its first chunk). */
let secondChunks: string[]

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const stamp = (iso: string) =>
  iso
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-')

const chunkFiles = (): Set<string> =>
  new Set(
    readdirSync(join(storeDir, 'chunks'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
      .map((e) => join(e.parentPath, e.name)),
  )

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

async function backup(job: string): Promise<any> {
  const run = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
  const task = await d.settled(run.body.task_uuid)
  expect(task.status, task.log).toBe('done')
  return (await d.api('GET', `/v1/archive/${task.archive_uuid}`)).body
}

/** GET without the token (a browser following a link). */
const anonymous = (path: string) => fetch(d.url + path)
const withToken = (path: string) =>
  fetch(d.url + path, { headers: { authorization: `Bearer ${d.token}` } })

const link = async (archive: string) => {
  const res = await d.api('POST', `/v1/archive/${archive}/download-link`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { url: string; expires_at: string }
}

/** The guard.ts hook for tickets (see src-daemon/api/tickets.ts) is what lets these through. */
const GUARD_HINT = 'a valid ticket must be let through by the guard (admitsDownload in guard.ts)'

const cli = (args: string[], cwd: string) => runCli(args, { dataDir: d.dataDir, cwd })

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock })
  storeDir = join(base, 'store')
  src = join(base, 'src')
  mkdirSync(join(src, 'sub'), { recursive: true })
  writeFileSync(join(src, 'big.bin'), randomBytes(3 * MiB))
  writeFileSync(join(src, 'sub', 'note.txt'), 'hello download\n')
  const x = join(base, 'x.bin')
  const y = join(base, 'y.bin')
  writeFileSync(x, randomBytes(4 * MiB))
  writeFileSync(y, randomBytes(4 * MiB))

  const store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: storeDir },
  })
  const schedule = await created('/v1/schedules', {
    name: 'weekly',
    when: 'weekly at 2:30am on sundays',
  })
  const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  const job = async (name: string, target: unknown) =>
    created('/v1/jobs', {
      name,
      target: await created('/v1/targets', target),
      store,
      schedule,
      retention,
    })
  files = await backup(
    await job('files', { name: 'web files', plugin: 'files', endpoint: { path: src } }),
  )
  filesTar = (await (await withToken(`/v1/archive/${files.uuid}/download`)).arrayBuffer())
    .byteLength
  const exec = (name: string, command: string) =>
    job(name, {
      name,
      plugin: 'exec',
      endpoint: { backup_command: command, restore_command: 'cat > /dev/null' },
    })
  first = await backup(await exec('first', `cat '${x}'`))
  const before = chunkFiles()
  second = await backup(await exec('second', `cat '${x}' '${y}'`))
  secondChunks = [...chunkFiles()].filter((f) => !before.has(f))
  expect(first.chunk_count).toBeGreaterThan(1)
  expect(secondChunks.length).toBeGreaterThan(0)
  expect(secondChunks.length).toBeLessThan(second.chunk_count)
})

afterAll(async () => {
  await d?.close()
  rmSync(base, { recursive: true, force: true })
})

describe('GET /v1/archive/:uuid/download', () => {
  it('streams the restored bytes with the token: the tar the files plugin would restore', async () => {
    const res = await withToken(`/v1/archive/${files.uuid}/download`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="web-files-${stamp(files.taken_at)}.tar"`,
    )
    expect(res.headers.get('content-length')).toBe(String(filesTar))
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.length).toBe(filesTar)
    const out = join(base, 'untarred')
    mkdirSync(out)
    execFileSync('tar', ['-x', '-C', out], { input: body })
    for (const file of ['big.bin', 'sub/note.txt']) {
      expect(sha(readFileSync(join(out, file))), file).toBe(sha(readFileSync(join(src, file))))
    }

    // A target plugin that names no extension: .bin.
    const plain = await withToken(`/v1/archive/${first.uuid}/download`)
    expect(plain.headers.get('content-disposition')).toBe(
      `attachment; filename="first-${stamp(first.taken_at)}.bin"`,
    )
    expect(Buffer.from(await plain.arrayBuffer()).equals(readFileSync(join(base, 'x.bin')))).toBe(
      true,
    )
  })

  it('wants the token or a ticket, and answers 404 for an unknown archive', async () => {
    const path = `/v1/archive/${files.uuid}/download`
    expect((await anonymous(path)).status).toBe(401)
    expect((await anonymous(`${path}?ticket=${'A'.repeat(43)}`)).status).toBe(401)
    expect((await anonymous(`${path}?ticket=`)).status).toBe(401)
    const missing = await withToken('/v1/archive/6b8398be-fdc0-424a-8532-e812e5dfc116/download')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as any).error.code).toBe('not_found')
    expect((await withToken('/v1/archive/nope/download')).status).toBe(400)
    expect((await d.api('POST', `/v1/archive/${randomUUID()}/download-link`)).status).toBe(404)
    const post = await fetch(`${d.url}/v1/archive/${files.uuid}/download-link`, { method: 'POST' })
    expect(post.status).toBe(401)
  })
})

describe('download links', () => {
  it('download once without the token, within 60 s', async () => {
    const before = clock.now()
    const { url, expires_at } = await link(files.uuid)
    expect(url).toMatch(new RegExp(`^/v1/archive/${files.uuid}/download\\?ticket=[\\w-]{43}$`))
    const expires = Date.parse(expires_at)
    expect(expires).toBeGreaterThanOrEqual(before + 60_000)
    expect(expires).toBeLessThanOrEqual(clock.now() + 60_000)

    const res = await anonymous(url)
    expect(res.status, GUARD_HINT).toBe(200)
    expect(res.headers.get('content-disposition')).toContain(`web-files-${stamp(files.taken_at)}`)
    expect((await res.arrayBuffer()).byteLength).toBe(filesTar)
    const again = await anonymous(url)
    expect(again.status).toBe(401)
    expect(((await again.json()) as any).error.code).toBe('unauthorized')
  })

  it('stop working after 60 s', async () => {
    const late = await link(files.uuid)
    const inTime = await link(files.uuid)
    clock.offsetMs += 59_000
    try {
      const ok = await anonymous(inTime.url)
      expect(ok.status, GUARD_HINT).toBe(200)
      await ok.arrayBuffer()
      clock.offsetMs += 2_000
      expect((await anonymous(late.url)).status).toBe(401)
    } finally {
      clock.offsetMs = 0
    }
  })

  it('open their own archive only', async () => {
    const { url } = await link(first.uuid)
    const ticket = new URL(url, d.url).searchParams.get('ticket')
    const stolen = await anonymous(`/v1/archive/${files.uuid}/download?ticket=${ticket}`)
    expect(stolen.status).toBe(401)
    // A ticket shown for another archive is spent.
    expect((await anonymous(url)).status).toBe(401)
    // And a ticket never stands in for the token elsewhere.
    const other = await link(files.uuid)
    const elsewhere = new URL(other.url, d.url).searchParams.get('ticket')
    expect((await anonymous(`/v1/archive/${files.uuid}?ticket=${elsewhere}`)).status).toBe(401)
  })
})

describe('bulwark download archive', () => {
  it('writes the file under the name the daemon gives, mode 0600, and will not overwrite it', async () => {
    const cwd = join(base, 'cli')
    mkdirSync(cwd)
    const name = `web-files-${stamp(files.taken_at)}.tar`
    const dest = join(cwd, name)
    const r = await cli(['download', 'archive', files.uuid.slice(0, 8)], cwd)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`downloaded archive ${files.uuid} to ${dest} (${fmtSize(filesTar)})\n`)
    expect(statSync(dest).size).toBe(filesTar)
    expect(statSync(dest).mode & 0o777).toBe(0o600)
    const tarred = sha(readFileSync(dest))
    expect(readdirSync(cwd)).toEqual([name])

    writeFileSync(dest, 'mine')
    const refused = await cli(['download', 'archive', files.uuid], cwd)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      `bulwark: ${dest} already exists; give --force to replace it, or -o another file\n`,
    )
    expect(readFileSync(dest, 'utf8')).toBe('mine')
    expect((await cli(['download', 'archive', files.uuid, '--force'], cwd)).code).toBe(0)
    expect(sha(readFileSync(dest))).toBe(tarred)
    expect(readdirSync(cwd)).toEqual([name])

    // -o names the file, or the directory it goes into.
    const named = await cli(['download', 'archive', files.uuid, '-o', 'site.tar', '--json'], cwd)
    expect(JSON.parse(named.stdout)).toEqual({
      ok: 'written',
      file: join(cwd, 'site.tar'),
      bytes: filesTar,
    })
    expect(sha(readFileSync(join(cwd, 'site.tar')))).toBe(tarred)
    expect((await cli(['download', 'archive', files.uuid, '-o', 'site.tar'], cwd)).code).toBe(1)
    mkdirSync(join(cwd, 'into'))
    expect((await cli(['download', 'archive', first.uuid, '-o', 'into'], cwd)).code).toBe(0)
    expect(readdirSync(join(cwd, 'into'))).toEqual([`first-${stamp(first.taken_at)}.bin`])
  })
})

describe('a damaged archive', () => {
  it('cuts the download short, never ending it as if whole', async () => {
    for (const chunk of secondChunks) {
      const bytes = readFileSync(chunk)
      bytes[bytes.length >> 1]! ^= 0xff
      writeFileSync(chunk, bytes)
    }
    const res = await withToken(`/v1/archive/${second.uuid}/download`)
    // The first chunk (shared with the first archive) is whole: the transfer starts, then breaks.
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(second.size))
    await expect(res.arrayBuffer()).rejects.toThrow()
    const log = d.log.join('')
    expect(log).toContain(
      `download of archive ${second.uuid} failed: archive ${second.uuid}: chunk`,
    )

    const cwd = join(base, 'cli-damaged')
    mkdirSync(cwd)
    const r = await cli(['download', 'archive', second.uuid], cwd)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(
      `bulwark: the download of archive ${second.uuid} stopped before its end`,
    )
    expect(r.stderr).toContain('nothing was written')
    expect(readdirSync(cwd)).toEqual([])
  })

  it('is refused once a verify has marked it invalid', async () => {
    const verify = await d.api('POST', `/v1/archive/${second.uuid}/verify`)
    expect((await d.settled(verify.body.task_uuid)).status).toBe('failed')
    const res = await withToken(`/v1/archive/${second.uuid}/download`)
    expect(res.status).toBe(409)
    expect(((await res.json()) as any).error).toEqual({
      code: 'conflict',
      message: `archive ${second.uuid} is invalid (a verify found it damaged) and cannot be downloaded`,
    })
    expect((await d.api('POST', `/v1/archive/${second.uuid}/download-link`)).status).toBe(409)
    const r = await cli(['download', 'archive', second.uuid], base)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('is invalid (a verify found it damaged)')
  })

  it('is refused before the transfer when its manifest is damaged', async () => {
    const manifest = join(storeDir, 'manifests', first.uuid)
    const bytes = readFileSync(manifest)
    bytes[bytes.length >> 1]! ^= 0xff
    writeFileSync(manifest, bytes)
    const res = await withToken(`/v1/archive/${first.uuid}/download`)
    expect(res.status).toBe(409)
    const error = ((await res.json()) as any).error
    expect(error.code).toBe('conflict')
    expect(error.message).toContain(first.uuid)
  })
})
