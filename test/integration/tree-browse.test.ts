// Browsing directory (tree) archives through the real daemon over HTTP and
// the `bulwark` CLI: list a folder with paging, find by glob, diff two
// backups of a changed tree, download one file, a folder as tar and as zip
// (extracted by the system's tar and unzip and compared with diff -r),
// download-link tickets bound to a path, and bad input (unknown archive,
// '..' and absolute paths, a single-dump archive).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, tempDir } from '../helpers/daemon'
import { TestClock, startInProcess, type InProcessDaemon } from '../helpers/in-process-daemon'

const base = tempDir('bulwark-tree-browse-')
let d: InProcessDaemon
let src: string
/** The files target's first and second backups (src changed in between), and an exec dump. */
let first: any
let second: any
let dump: any
/** src as it was at the first backup. */
let firstCopy: string

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

const get = (path: string) => d.api('GET', path)
const tree = (uuid: string, q: Record<string, string> = {}) =>
  get(`/v1/archive/${uuid}/tree?${new URLSearchParams(q)}`)
const find = (uuid: string, q: Record<string, string>) =>
  get(`/v1/archive/${uuid}/find?${new URLSearchParams(q)}`)
const withToken = (path: string) =>
  fetch(d.url + path, { headers: { authorization: `Bearer ${d.token}` } })
const cli = (args: string[], cwd = base) => runCli(args, { dataDir: d.dataDir, cwd })

function expectError(res: { status: number; body: any }, status: number, field?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  if (field !== undefined) expect(res.body.error.field).toBe(field)
}

/** Writes a response's body to a file and extracts it with the system's tool into a new directory. */
async function extract(res: Response, kind: 'tar' | 'zip', name: string): Promise<string> {
  expect(res.status).toBe(200)
  const file = join(base, `${name}.${kind}`)
  writeFileSync(file, Buffer.from(await res.arrayBuffer()))
  const out = join(base, name)
  mkdirSync(out)
  if (kind === 'tar') execFileSync('tar', ['-xf', file, '-C', out])
  else execFileSync('unzip', ['-q', file, '-d', out])
  return out
}

beforeAll(async () => {
  d = await startInProcess({ dataDir: join(base, 'data'), clock: new TestClock() })
  src = join(base, 'src')
  mkdirSync(join(src, 'docs', 'deep'), { recursive: true })
  mkdirSync(join(src, 'empty'))
  writeFileSync(join(src, 'docs', 'a.md'), '# a\n')
  writeFileSync(join(src, 'docs', 'b.txt'), 'bee\n')
  writeFileSync(join(src, 'docs', 'deep', 'c.md'), '# c\n')
  writeFileSync(join(src, 'docs', 'deep', 'x.TXT'), 'upper\n')
  writeFileSync(join(src, 'notes.txt'), 'notes\n')
  chmodSync(join(src, 'notes.txt'), 0o640)
  chmodSync(join(src, 'docs', 'a.md'), 0o644)
  writeFileSync(join(src, 'big.bin'), randomBytes(1536 * 1024 + 3))
  // More than socket buffers hold: a download of it cannot be over before the client stops it.
  mkdirSync(join(src, 'media'))
  writeFileSync(join(src, 'media', 'huge.bin'), randomBytes(32 * 1024 * 1024))
  writeFileSync(join(src, 'spaces and ü.txt'), 'unicode\n')
  symlinkSync('docs/a.md', join(src, 'link'))
  linkSync(join(src, 'notes.txt'), join(src, 'hard'))
  // A hard link in a folder to a file outside it: a download of the folder copies the file.
  mkdirSync(join(src, 'zz'))
  linkSync(join(src, 'notes.txt'), join(src, 'zz', 'copy'))
  firstCopy = join(base, 'first-copy')
  execFileSync('cp', ['-a', src, firstCopy])

  const store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(base, 'store') },
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
  const home = await job('home', { name: 'home', plugin: 'files', endpoint: { path: src } })
  first = await backup(home)
  // Changes: content (and size), a removal, an addition, a mode.
  writeFileSync(join(src, 'docs', 'a.md'), '# a, longer now\n')
  unlinkSync(join(src, 'docs', 'b.txt'))
  writeFileSync(join(src, 'docs', 'new.md'), 'new\n')
  chmodSync(join(src, 'big.bin'), 0o600)
  second = await backup(home)
  dump = await backup(
    await job('dump', {
      name: 'dump',
      plugin: 'exec',
      endpoint: { backup_command: 'echo dump', restore_command: 'cat > /dev/null' },
    }),
  )
}, 120_000)

afterAll(async () => {
  await d?.close()
  rmSync(base, { recursive: true, force: true })
})

describe('tree archives: browse', () => {
  it('backs a files target up as a tree', () => {
    expect(first.format).toBe('tree')
    expect(second.format).toBe('tree')
    expect(dump.format).toBe('vault')
  })

  it('lists the root by name with types, sizes, modes, mtimes and children', async () => {
    const res = await tree(first.uuid)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const names = res.body.entries.map((e: any) => e.name)
    expect(names).toEqual([
      'big.bin',
      'docs',
      'empty',
      'hard',
      'link',
      'media',
      'notes.txt',
      'spaces and ü.txt',
      'zz',
    ])
    expect(res.body).toMatchObject({ path: '', total: 9, next_cursor: null })
    const byName = Object.fromEntries(res.body.entries.map((e: any) => [e.name, e]))
    expect(byName['big.bin']).toMatchObject({
      type: 'file',
      size: 1536 * 1024 + 3,
      path: 'big.bin',
    })
    expect(byName.docs).toMatchObject({ type: 'dir', size: 0, children: 3 })
    expect(byName.empty).toMatchObject({ type: 'dir', children: 0 })
    expect(byName.link).toMatchObject({ type: 'symlink', target: 'docs/a.md' })
    // Hard links: the first path in tree order holds the content.
    expect(byName.hard).toMatchObject({ type: 'file', size: 6 })
    expect(byName['notes.txt']).toMatchObject({ type: 'hardlink', target: 'hard', size: 0 })
    expect(byName['notes.txt'].mode).toBe(0o640)
    expect(byName['big.bin'].mtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Math.abs(Date.parse(byName['big.bin'].mtime) - Date.now())).toBeLessThan(600_000)
  })

  it('pages a folder two entries at a time with cursors, and lists a file as itself', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: any = await tree(second.uuid, {
        path: 'docs',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body.total).toBe(3)
      expect(res.body.entries.length).toBeLessThanOrEqual(2)
      seen.push(...res.body.entries.map((e: any) => e.path))
      cursor = res.body.next_cursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(2)
    expect(seen).toEqual(['docs/a.md', 'docs/deep', 'docs/new.md'])
    const file = await tree(second.uuid, { path: 'docs/a.md' })
    expect(file.body).toMatchObject({ path: 'docs/a.md', total: 1 })
    expect(file.body.entries[0]).toMatchObject({ name: 'a.md', size: 16 })
    expect((await tree(second.uuid, { path: '/' })).body.total).toBe(9)
    expect((await tree(second.uuid, { path: 'docs/' })).body.total).toBe(3)
  })

  it('refuses bad paths, cursors and limits, naming the field', async () => {
    expectError(await tree(first.uuid, { path: 'docs/../..' }), 400, 'path')
    expectError(await tree(first.uuid, { path: '/etc' }), 400, 'path')
    expectError(await tree(first.uuid, { path: 'docs\0' }), 400, 'path')
    expectError(
      await withToken(`/v1/archive/${first.uuid}/download?path=../x`).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      })),
      400,
      'path',
    )
    expectError(await tree(first.uuid, { path: 'docs/nope' }), 404, 'path')
    expectError(await tree(first.uuid, { cursor: 'not a cursor' }), 400)
    expectError(await tree(first.uuid, { cursor: 'AAAA' }), 400, 'cursor')
    expectError(await tree(first.uuid, { limit: '0' }), 400, 'limit')
    expectError(await tree(first.uuid, { limit: '10001' }), 400, 'limit')
    expectError(await tree('00000000-0000-4000-8000-000000000000'), 404)
    const single = await tree(dump.uuid)
    expectError(single, 400, 'uuid')
    expect(single.body.error.message).toContain('single dump, not a directory tree')
  })

  it('finds by name and by path glob, case-insensitively, with paging', async () => {
    const txt = await find(first.uuid, { pattern: '*.txt' })
    expect(txt.status, JSON.stringify(txt.body)).toBe(200)
    expect(txt.body.entries.map((e: any) => e.path)).toEqual([
      'docs/b.txt',
      'docs/deep/x.TXT',
      'notes.txt',
      'spaces and ü.txt',
    ])
    expect(txt.body.total).toBe(4)
    const md = await find(first.uuid, { pattern: 'docs/**/*.md' })
    expect(md.body.entries.map((e: any) => e.path)).toEqual(['docs/a.md', 'docs/deep/c.md'])
    const page1 = await find(first.uuid, { pattern: '*.txt', limit: '3' })
    expect(page1.body.entries).toHaveLength(3)
    const page2 = await find(first.uuid, { pattern: '*.txt', cursor: page1.body.next_cursor })
    expect(page2.body.entries.map((e: any) => e.path)).toEqual(['spaces and ü.txt'])
    expect(page2.body.next_cursor).toBeNull()
    expect((await find(first.uuid, { pattern: 'zzz*' })).body).toMatchObject({ total: 0 })
  })
})

describe('tree archives: diff', () => {
  it('says what was added, removed and modified, with size deltas', async () => {
    const res = await get(`/v1/archive/${second.uuid}/diff?against=${first.uuid}`)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const diff = res.body
    expect(diff.added.map((e: any) => e.path)).toEqual(['docs/new.md'])
    expect(diff.removed).toEqual([
      { path: 'docs/b.txt', type: 'file', size: 0, old_size: 4, delta: -4 },
    ])
    const modified = Object.fromEntries(diff.modified.map((e: any) => [e.path, e]))
    expect(modified['docs/a.md']).toMatchObject({ size: 16, old_size: 4, delta: 12 })
    expect(modified['docs/a.md'].changes).toEqual(expect.arrayContaining(['content', 'mtime']))
    expect(modified['big.bin'].changes).toEqual(['mode'])
    // Folders whose only change is their mtime are not listed.
    expect(modified.docs).toBeUndefined()
    expect(diff.summary).toMatchObject({ added: 1, removed: 1, added_bytes: 4, removed_bytes: 4 })
    expect(diff.summary.modified_delta).toBe(12)
  })

  it('diffs an archive against itself as nothing, and refuses a single dump as `against`', async () => {
    const same = await get(`/v1/archive/${first.uuid}/diff?against=${first.uuid}`)
    expect(same.body.summary).toMatchObject({ added: 0, removed: 0, modified: 0 })
    const single = await get(`/v1/archive/${second.uuid}/diff?against=${dump.uuid}`)
    expectError(single, 400, 'against')
    expectError(await get(`/v1/archive/${second.uuid}/diff?against=nope`), 400)
  })
})

describe('tree archives: download', () => {
  it('downloads one file as itself, with its name and exact length', async () => {
    const res = await withToken(`/v1/archive/${first.uuid}/download?path=big.bin`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(1536 * 1024 + 3))
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="big.bin"')
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(src, 'big.bin')))).toBe(
      true,
    )
    const named = await withToken(
      `/v1/archive/${first.uuid}/download?path=${encodeURIComponent('spaces and ü.txt')}`,
    )
    expect(named.headers.get('content-disposition')).toBe(
      `attachment; filename="spaces-and-u.txt"; filename*=UTF-8''spaces%20and%20%C3%BC.txt`,
    )
    expect(await named.text()).toBe('unicode\n')
    const hard = await withToken(`/v1/archive/${first.uuid}/download?path=notes.txt`)
    expect(await hard.text()).toBe('notes\n')
    const link = await withToken(`/v1/archive/${first.uuid}/download?path=link`)
    expect(link.status).toBe(400)
    expect(((await link.json()) as any).error.field).toBe('path')
  })

  it('downloads a folder as a tar and as a zip that extract to the same files', async () => {
    const tar = await withToken(`/v1/archive/${first.uuid}/download?path=docs`)
    expect(tar.headers.get('content-disposition')).toBe('attachment; filename="docs.tar"')
    const size = Number(tar.headers.get('content-length'))
    const fromTar = await extract(tar, 'tar', 'docs-tar')
    expect(readFileSync(join(base, 'docs-tar.tar')).length).toBe(size)
    execFileSync('diff', ['-r', join(firstCopy, 'docs'), join(fromTar, 'docs')])
    const zip = await withToken(`/v1/archive/${first.uuid}/download?path=docs&format=zip`)
    expect(zip.headers.get('content-disposition')).toBe('attachment; filename="docs.zip"')
    execFileSync('diff', [
      '-r',
      join(firstCopy, 'docs'),
      join(await extract(zip, 'zip', 'docs-zip'), 'docs'),
    ])
  })

  it('copies a hard link whose first path is outside the folder', async () => {
    const res = await withToken(`/v1/archive/${first.uuid}/download?path=zz`)
    const out = await extract(res, 'tar', 'zz-tar')
    expect(readFileSync(join(out, 'zz', 'copy'), 'utf8')).toBe('notes\n')
  })

  it('downloads the whole tree as a tar equal to the source', async () => {
    const whole = await extract(
      await withToken(`/v1/archive/${second.uuid}/download`),
      'tar',
      'whole',
    )
    execFileSync('diff', ['-r', '--no-dereference', src, whole])
  })

  it('releases the store lock when the client goes away mid-download', async () => {
    const locks = async () => (await get(`/v1/store/${first.store_uuid}/locks`)).body.locks
    const stop = new AbortController()
    const res = await fetch(`${d.url}/v1/archive/${first.uuid}/download?path=media`, {
      headers: { authorization: `Bearer ${d.token}` },
      signal: stop.signal,
    })
    const reader = res.body!.getReader()
    await reader.read()
    expect(await locks()).toHaveLength(1)
    stop.abort()
    const deadline = Date.now() + 10_000
    while ((await locks()).length > 0) {
      expect(Date.now(), 'the lock is still held 10 s after the abort').toBeLessThan(deadline)
      await new Promise((r) => setImmediate(r))
    }
    const what = `download of media from archive ${first.uuid}`
    expect(d.log.some((l) => l.includes(what) && l.includes('bytes sent'))).toBe(false)
  })

  it('binds a download-link ticket to its path and format', async () => {
    const make = async (body: unknown) => {
      const res = await d.api('POST', `/v1/archive/${first.uuid}/download-link`, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.url as string
    }
    const url = await make({ path: 'docs/a.md' })
    expect(url).toContain('path=docs%2Fa.md')
    const ok = await fetch(d.url + url)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('# a\n')
    expect((await fetch(d.url + url)).status).toBe(401)
    // The same ticket with another path (or none) is refused, and spent.
    const other = new URL(await make({ path: 'docs/a.md' }), d.url)
    other.searchParams.set('path', 'notes.txt')
    expect((await fetch(other)).status).toBe(401)
    const bare = new URL(await make({ path: 'docs' }), d.url)
    bare.searchParams.delete('path')
    expect((await fetch(bare)).status).toBe(401)
    const zipUrl = new URL(await make({ path: 'docs', format: 'zip' }), d.url)
    zipUrl.searchParams.set('format', 'tar')
    expect((await fetch(zipUrl)).status).toBe(401)
    expectError(
      await d.api('POST', `/v1/archive/${dump.uuid}/download-link`, { path: 'x' }),
      400,
      'path',
    )
    expectError(await d.api('POST', `/v1/archive/${first.uuid}/download-link`, { nope: 1 }), 400)
  })
})

describe('tree archives: the CLI', () => {
  it('ls archive UUID PATH prints modes, sizes and names; --json gives the page', async () => {
    const ls = await cli(['ls', 'archive', second.uuid.slice(0, 8), 'docs'])
    expect(ls.code, ls.stderr).toBe(0)
    expect(ls.stdout).toMatch(/-rw-r--r-- +16 B +\S.* a\.md/)
    expect(ls.stdout).toMatch(/drwx\S+ +2 entries +.* deep\//)
    const json = await cli(['--json', 'ls', 'archive', second.uuid, 'docs', '--limit', '2'])
    expect(JSON.parse(json.stdout).entries).toHaveLength(2)
    const root = await cli(['ls', 'archive', second.uuid])
    expect(root.stdout).toMatch(/link -> docs\/a\.md/)
    const list = await cli(['list', 'archives'])
    expect(list.stdout).toContain(second.uuid.slice(0, 8))
  })

  it('find archive UUID PATTERN and diff archive OLDER NEWER', async () => {
    const found = await cli(['find', 'archive', first.uuid, 'docs/**/*.md'])
    expect(found.code, found.stderr).toBe(0)
    expect(found.stdout).toContain('docs/deep/c.md')
    expect(found.stdout).not.toContain('b.txt')
    const diff = await cli(['diff', 'archive', first.uuid, second.uuid])
    expect(diff.code, diff.stderr).toBe(0)
    expect(diff.stdout).toContain('+ docs/new.md (4 B)')
    expect(diff.stdout).toContain('- docs/b.txt (4 B)')
    expect(diff.stdout).toMatch(/M docs\/a\.md \(\+12 B\) \[content, .*mtime.*\]/)
    expect(diff.stdout).toContain('M big.bin (±0 B) [mode]')
    expect(diff.stdout).toMatch(/1 added \(4 B\), 1 removed \(4 B\), \d+ modified \(\+12 B\)/)
    const bad = await cli(['diff', 'archive', dump.uuid, second.uuid])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('single dump')
  })

  it('download archive --path writes one file, or a folder as a zip', async () => {
    const out = join(base, 'cli-out')
    mkdirSync(out)
    const one = await cli([
      'download',
      'archive',
      second.uuid,
      '--path',
      'docs/a.md',
      '-o',
      `${out}/`,
    ])
    expect(one.code, one.stderr).toBe(0)
    expect(readFileSync(join(out, 'a.md'), 'utf8')).toBe('# a, longer now\n')
    const named = await cli([
      'download',
      'archive',
      second.uuid,
      '--path',
      'spaces and ü.txt',
      '-o',
      `${out}/`,
    ])
    expect(named.code, named.stderr).toBe(0)
    expect(readFileSync(join(out, 'spaces and ü.txt'), 'utf8')).toBe('unicode\n')
    const zip = await cli([
      'download',
      'archive',
      second.uuid,
      '--path',
      'docs',
      '--format',
      'zip',
      '-o',
      `${out}/`,
    ])
    expect(zip.code, zip.stderr).toBe(0)
    execFileSync('unzip', ['-q', join(out, 'docs.zip'), '-d', join(out, 'unzipped')])
    execFileSync('diff', ['-r', join(src, 'docs'), join(out, 'unzipped', 'docs')])
    const bad = await cli(['download', 'archive', second.uuid, '--path', '../x'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('..')
  })

  it('restore archive --path --to DIR passes the paths, directory and conflict choice through', async () => {
    const dest = join(base, 'restored')
    const run = (extra: string[]) =>
      cli([
        '--json',
        'restore',
        'archive',
        first.uuid,
        '--path',
        'docs/a.md',
        '--path',
        'zz',
        '--to',
        dest,
        ...extra,
      ])
    const ok = await run([])
    expect(ok.code, ok.stderr).toBe(0)
    expect((await d.settled(JSON.parse(ok.stdout).task_uuid)).status).toBe('done')
    expect(readFileSync(join(dest, 'docs', 'a.md'), 'utf8')).toBe('# a\n')
    expect(readFileSync(join(dest, 'zz', 'copy'), 'utf8')).toBe('notes\n')
    // Again: the files exist, so the default (refuse) fails the restore; keep-both does not.
    const again = await run([])
    expect((await d.settled(JSON.parse(again.stdout).task_uuid)).status).toBe('failed')
    const both = await run(['--conflict', 'keep-both'])
    expect((await d.settled(JSON.parse(both.stdout).task_uuid)).status).toBe('done')
    const bad = await cli(['restore', 'archive', first.uuid, '--conflict', 'maybe'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--conflict must be one of refuse, overwrite, keep-both')
  })

  it('run job --full-read reads every file again; without it, none unchanged is read', async () => {
    const run = async (extra: string[]) => {
      const r = await cli(['run', 'job', 'home', ...extra])
      expect(r.code, r.stderr).toBe(0)
      const task = await d.settled(r.stdout.trim())
      expect(task.status, task.log).toBe('done')
      return task.log as string
    }
    expect(await run([])).toMatch(/files: [\d,]+ unchanged \(reused\), 0 read, 0 new/)
    expect(await run(['--full-read'])).toMatch(/files: 0 unchanged \(reused\), [1-9][\d,]* read/)
  })
})
