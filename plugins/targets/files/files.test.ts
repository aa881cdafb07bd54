import { createHash, randomBytes } from 'node:crypto'
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, testContext, toolAvailable } from '../../sdk/conformance/services'
import { targetConformance } from '../../sdk/conformance/target-suite'
import type { Endpoint, TargetPlugin } from '../../sdk/types'
import filesTarget, { excludeArgs } from './index'

const hasTar = toolAvailable('tar')
const target = filesTarget.plugin as TargetPlugin
const ctx = () => testContext()
let base = ''
let n = 0
const fresh = () => join(base, `dir-${++n}`)

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'bulwark-files-'))
})
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true })
})

const PAST = new Date('2001-02-03T04:05:06Z')

/** A tree with the cases a backup must keep: modes, mtimes, links, empty dirs, odd names. */
async function seedTree(root: string): Promise<void> {
  await mkdir(join(root, 'nested/deep'), { recursive: true })
  await mkdir(join(root, 'bin'))
  await mkdir(join(root, 'empty'))
  await writeFile(join(root, 'a.txt'), 'alpha\n')
  await chmod(join(root, 'a.txt'), 0o640)
  await writeFile(join(root, 'bin/run.sh'), '#!/bin/sh\necho hi\n')
  await chmod(join(root, 'bin/run.sh'), 0o755)
  await writeFile(join(root, 'nested/deep/x.bin'), randomBytes(1000))
  await writeFile(join(root, 'héllo wörld.txt'), 'unicode name\n')
  await writeFile(join(root, 'big.bin'), randomBytes(6 * 1024 * 1024)) // lets the abort test catch it mid-stream
  await symlink('a.txt', join(root, 'link'))
  await symlink('/nonexistent/target', join(root, 'dangling'))
  await utimes(join(root, 'a.txt'), PAST, PAST)
  await utimes(join(root, 'nested/deep'), PAST, PAST) // after its child was written
}

/** Relative path → type, mode, mtime (s), link target or content hash. */
async function snapshot(ep: Endpoint): Promise<Record<string, unknown>> {
  const root = ep.path as string
  const out: Record<string, unknown> = {}
  for (const rel of (await readdir(root, { recursive: true })).map(String).sort()) {
    const path = join(root, rel)
    const st = await lstat(path)
    if (st.isSymbolicLink()) out[rel] = { link: await readlink(path) }
    else {
      const hash = st.isFile()
        ? createHash('sha256')
            .update(await readFile(path))
            .digest('hex')
        : 'dir'
      out[rel] = { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000), hash }
    }
  }
  return out
}

async function roundTrip(from: Endpoint, into: Endpoint): Promise<void> {
  const data = await readAll(await target.backup(from, ctx()))
  await target.restore(into, Readable.from([data]), ctx())
}

describe.skipIf(!hasTar)('target files', () => {
  const src = () => join(base, 'src')
  // Seeded here rather than by the suite, so the tests below can also run alone (-t).
  beforeAll(() => seedTree(src()))
  targetConformance('files', {
    endpoint: async () => ({ path: src(), exclude: [] }),
    restoreEndpoint: async () => ({ path: fresh(), exclude: [] }),
    seed: async () => undefined,
    snapshot,
    mutate: async () => {
      await writeFile(join(src(), 'a.txt'), 'changed\n')
      await chmod(join(src(), 'bin/run.sh'), 0o700)
      await unlink(join(src(), 'nested/deep/x.bin'))
      await writeFile(join(src(), 'new.txt'), 'new')
    },
    badEndpoint: async () => ({ path: join(base, 'does-not-exist'), exclude: [] }),
  })

  it('leaves out excluded paths: bare names at any depth, paths with a slash from the top', async () => {
    const from = fresh()
    for (const f of [
      'x.log',
      'sub/y.log',
      'cache/a',
      'cache/deep/b',
      'sub/cache/keep',
      'node_modules/m/f',
      'keep',
    ]) {
      await mkdir(join(from, f, '..'), { recursive: true })
      await writeFile(join(from, f), f)
    }
    const into = fresh()
    await roundTrip({ path: from, exclude: ['*.log', 'cache/*', '/node_modules/'] }, { path: into })
    const kept = (await readdir(into, { recursive: true })).map(String).sort()
    expect(kept).toEqual(['cache', 'keep', 'sub', 'sub/cache', 'sub/cache/keep'])
  })

  it('writes the same bytes for an unchanged tree, so backups deduplicate', async () => {
    const dir = fresh()
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'data.bin'), randomBytes(200_000))
    const once = await readAll(await target.backup({ path: dir, exclude: [] }, testContext()))
    await new Promise((r) => setTimeout(r, 1100)) // a new second for atime/ctime to differ
    await readAll(await target.backup({ path: dir, exclude: [] }, testContext())) // touches atimes
    const twice = await readAll(await target.backup({ path: dir, exclude: [] }, testContext()))
    expect(twice.equals(once)).toBe(true)
  })

  it('builds tar exclude options', () => {
    expect(excludeArgs(['*.log', './cache/*', 'tmp/', ' '])).toEqual([
      '--no-anchored',
      '--exclude=*.log',
      '--exclude=tmp',
      '--anchored',
      '--exclude=./cache/*',
    ])
    expect(excludeArgs([])).toEqual([])
  })

  it('refuses to restore into a non-empty directory and touches nothing', async () => {
    const into = fresh()
    await mkdir(into)
    await writeFile(join(into, 'precious'), 'keep me')
    const before = await snapshot({ path: into })
    const data = await readAll(await target.backup({ path: src(), exclude: [] }, ctx()))
    const c = ctx()
    await expect(target.restore({ path: into }, Readable.from([data]), c)).rejects.toThrow(
      `restore into ${into} refused: the directory is not empty; restore into a new or empty directory`,
    )
    expect(await snapshot({ path: into })).toEqual(before)
    expect(c.lines).toEqual([]) // tar never ran
  })

  it('restores into an existing empty directory, and refuses a file in the way', async () => {
    const into = fresh()
    await mkdir(into)
    await roundTrip({ path: src(), exclude: [] }, { path: into })
    expect(await snapshot({ path: into })).toEqual(await snapshot({ path: src() }))
    const file = fresh()
    await writeFile(file, 'x')
    await expect(
      target.restore({ path: file }, Readable.from([Buffer.alloc(1024)]), ctx()),
    ).rejects.toThrow('is not a directory')
  })

  it('an aborted restore fails with PluginAbortedError and removes what it extracted', async () => {
    const data = await readAll(await target.backup({ path: src(), exclude: [] }, ctx()))
    const c = ctx()
    let sent = 0
    const slow = new Readable({
      read() {
        if (sent >= data.length) return void this.push(null)
        const chunk = data.subarray(sent, sent + 64 * 1024)
        sent += chunk.length
        if (sent > 1024 * 1024) c.controller.abort()
        setTimeout(() => this.push(chunk), 5)
      },
    })
    const into = fresh()
    await expect(target.restore({ path: into }, slow, c)).rejects.toMatchObject({
      name: 'PluginAbortedError',
    })
    await expect(lstat(into)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('test() counts entries, and explains a missing path or a file', async () => {
    await expect(target.test({ path: src() }, ctx())).resolves.toMatch(
      new RegExp(`^directory ${src()}: \\d+ entries$`),
    )
    const missing = join(base, 'missing')
    await expect(target.test({ path: missing }, ctx())).rejects.toThrow(
      `directory ${missing} does not exist`,
    )
    const file = fresh()
    await writeFile(file, 'x')
    await expect(target.test({ path: file }, ctx())).rejects.toThrow(`${file} is not a directory`)
    await expect(target.backup({ path: 'relative' }, ctx())).rejects.toThrow('absolute path')
  })
})

/** One ustar member (or the two zero blocks that end an archive, for name === null). */
function tarMember(name: string | null, body = '', type = '0', link = ''): Buffer {
  if (name === null) return Buffer.alloc(1024)
  const h = Buffer.alloc(512)
  const field = (off: number, len: number, value: string) => h.write(value, off, len, 'utf8')
  const octal = (off: number, len: number, v: number) =>
    field(off, len, v.toString(8).padStart(len - 1, '0'))
  field(0, 100, name)
  octal(100, 8, 0o644)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, Buffer.byteLength(body))
  octal(136, 12, Math.floor(Date.now() / 1000))
  field(148, 8, '        ')
  field(156, 1, type)
  field(157, 100, link)
  field(257, 8, 'ustar\u000000')
  octal(
    148,
    7,
    h.reduce((a, b) => a + b, 0),
  )
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512)
  data.write(body)
  return Buffer.concat([h, data])
}

describe.skipIf(!hasTar)('target files: hostile archives', () => {
  const attempt = async (members: Buffer[]) => {
    const into = fresh()
    const err = await target
      .restore({ path: into }, Readable.from([Buffer.concat(members)]), ctx())
      .then(
        () => undefined,
        (e: Error) => e,
      )
    return { err, into }
  }

  it('refuses a member with .. and writes nothing outside', async () => {
    const { err, into } = await attempt([
      tarMember('ok.txt', 'ok'),
      tarMember('a/../../escaped', 'x'),
      tarMember(null),
    ])
    expect(err?.message).toMatch(/^restore refused: .*outside the directory/)
    await expect(lstat(join(into, '..', 'escaped'))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(lstat(into)).rejects.toMatchObject({ code: 'ENOENT' }) // the half restore was removed
  })

  it('refuses a member with an absolute path and writes nothing there', async () => {
    const outside = join(base, `abs-${randomBytes(4).toString('hex')}`)
    const { err, into } = await attempt([tarMember(outside, 'x'), tarMember(null)])
    expect(err?.message).toMatch(/^restore refused: .*outside the directory/)
    await expect(lstat(outside)).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(lstat(into)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('does not follow a symlink the archive itself plants', async () => {
    const outside = fresh()
    await mkdir(outside)
    const { err } = await attempt([
      tarMember('evil', '', '2', outside),
      tarMember('evil/pwned', 'x'),
      tarMember(null),
    ])
    expect(err?.message).toMatch(/^restore refused/)
    expect(await readdir(outside)).toEqual([])
  })

  it('reports a damaged archive', async () => {
    const { err } = await attempt([Buffer.from('this is not a tar archive at all'.repeat(40))])
    expect(err?.message).toMatch(/damaged or incomplete|tar restore failed/)
  })
})
