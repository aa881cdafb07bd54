// The tar (and zip) writers of tree downloads, read back by the system's GNU tar: names
// long and unicode, modes, mtimes to the nanosecond, symlinks, hard links,
// empty directories and files; a content of the wrong size fails the stream.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  linkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import type { PackEntry } from '../../src-daemon/services/tree-pack'
import { tarLength, tarStream } from '../../src-daemon/services/tree-tar'
import { zipRefusal, zipStream } from '../../src-daemon/services/tree-zip'

const root = mkdtempSync(join(tmpdir(), 'bulwark-tar-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The entries of a directory on disk, in path order, as a tree download would give them. */
function walk(dir: string, base = ''): PackEntry[] {
  const out: PackEntry[] = []
  const seen = new Map<string, string>()
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name
      const abs = join(dir, path)
      const st = lstatSync(abs, { bigint: true })
      const named = base ? `${base}/${path}` : path
      const common = {
        name: named,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtimeNs: st.mtimeNs,
        size: 0,
      }
      if (st.isDirectory()) {
        out.push({ ...common, type: 'dir' })
        visit(path)
      } else if (st.isSymbolicLink()) {
        out.push({ ...common, type: 'symlink', linkTarget: readlinkSync(abs) })
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`
        const first = seen.get(key)
        if (first) {
          // Zip has no links: its writer copies the content, so the entry can open it.
          const size = Number(st.size)
          out.push({
            ...common,
            type: 'hardlink',
            linkTarget: first,
            size,
            open: async () => createReadStream(abs),
          })
        } else {
          seen.set(key, named)
          const size = Number(st.size)
          out.push({ ...common, type: 'file', size, open: async () => createReadStream(abs) })
        }
      }
    }
  }
  visit('')
  return out
}

async function writeTar(entries: PackEntry[], file: string, as = tarStream): Promise<void> {
  const chunks: Buffer[] = []
  for await (const c of as(entries)) chunks.push(c)
  writeFileSync(file, Buffer.concat(chunks))
}

const statLine = (dir: string) =>
  execFileSync('find', ['.', '-printf', '%p %y %m %s %T@ %l\n'], { cwd: dir, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l && !l.startsWith('. '))
    // Directories' sizes are the file system's business.
    .map((l) => l.replace(/^(\S+ d \d+) \d+/, '$1 -'))
    .sort()

describe('tree tar writer', () => {
  const src = join(root, 'src')
  mkdirSync(join(src, 'docs/deep'), { recursive: true })
  mkdirSync(join(src, 'empty'))
  writeFileSync(join(src, 'docs/a.md'), '# a\n')
  writeFileSync(join(src, 'docs/deep/b.md'), '')
  writeFileSync(join(src, 'big.bin'), randomBytes(1024 * 1024 + 77))
  writeFileSync(join(src, 'spaces and ünïcødé ✓.txt'), 'hello')
  const long = `${'segment-'.repeat(14)}x`
  mkdirSync(join(src, long, long), { recursive: true })
  writeFileSync(join(src, long, long, `${'n'.repeat(120)}.txt`), 'long')
  writeFileSync(join(src, 'script.sh'), '#!/bin/sh\n')
  chmodSync(join(src, 'script.sh'), 0o750)
  chmodSync(join(src, 'empty'), 0o700)
  symlinkSync('docs/a.md', join(src, 'link-in'))
  symlinkSync('/etc/hostname', join(src, 'link-out'))
  symlinkSync(`../${'t'.repeat(150)}`, join(src, 'link-long'))
  linkSync(join(src, 'docs/a.md'), join(src, 'hard'))
  utimesSync(join(src, 'docs/a.md'), 1_700_000_000.123456, 1_700_000_000.123456)
  utimesSync(join(src, 'big.bin'), 1_000_000_000, 1_000_000_000)

  it('is read back by GNU tar as the same tree (names, types, modes, sizes, mtimes)', async () => {
    const file = join(root, 'all.tar')
    await writeTar(walk(src), file)
    expect(lstatSync(file).size).toBe(tarLength(walk(src)))
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n')
    expect(listed).toContain('docs/')
    expect(listed).toContain(`${long}/${long}/${'n'.repeat(120)}.txt`)
    const out = join(root, 'out')
    mkdirSync(out)
    execFileSync('tar', ['-xf', file, '-C', out])
    execFileSync('diff', ['-r', '--no-dereference', src, out])
    expect(statLine(src)).toHaveLength(15)
    expect(statLine(out)).toEqual(statLine(src))
    expect(lstatSync(join(out, 'hard')).ino).toBe(lstatSync(join(out, 'docs/a.md')).ino)
    expect(lstatSync(join(out, 'docs/a.md'), { bigint: true }).mtimeNs).toBe(
      lstatSync(join(src, 'docs/a.md'), { bigint: true }).mtimeNs,
    )
  })

  it('puts a subtree under its own name', async () => {
    const file = join(root, 'docs.tar')
    await writeTar(walk(join(src, 'docs'), 'docs'), file)
    const out = join(root, 'out-docs')
    mkdirSync(out)
    execFileSync('tar', ['-xf', file, '-C', out])
    execFileSync('diff', ['-r', join(src, 'docs'), join(out, 'docs')])
  })

  it('fails rather than write a file whose content is not its announced size', async () => {
    const entry: PackEntry = {
      name: 'short.txt',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtimeNs: 0n,
      size: 10,
      open: async () => Readable.from([Buffer.from('12345')]),
    }
    await expect(writeTar([entry], join(root, 'bad.tar'))).rejects.toThrow(
      'short.txt should hold 10 bytes but the archive gave 5',
    )
    const long = { ...entry, open: async () => Readable.from([Buffer.alloc(11)]) }
    await expect(writeTar([long], join(root, 'bad.tar'))).rejects.toThrow('or more')
  })

  it('writes a zip that unzip extracts as the same files, modes and symlinks', async () => {
    const file = join(root, 'all.zip')
    await writeTar(walk(src), file, zipStream)
    const out = join(root, 'out-zip')
    mkdirSync(out)
    execFileSync('unzip', ['-q', file, '-d', out])
    execFileSync('diff', ['-r', '--no-dereference', src, out])
    expect(readlinkSync(join(out, 'link-out'))).toBe('/etc/hostname')
    expect(lstatSync(join(out, 'script.sh')).mode & 0o777).toBe(0o750)
    expect(lstatSync(join(out, 'empty')).isDirectory()).toBe(true)
    const mtime = Math.floor(lstatSync(join(out, 'big.bin')).mtimeMs / 1000)
    expect(mtime).toBe(1_000_000_000)
    const tested = execFileSync('unzip', ['-t', file], { encoding: 'utf8' })
    expect(tested).toContain('No errors detected')
  })

  it('refuses a zip past 4 GiB or 65535 entries before writing it', () => {
    const one: PackEntry = {
      name: 'f',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtimeNs: 0n,
      size: 0,
    }
    expect(zipRefusal([{ ...one, size: 5 * 2 ** 30 }])).toMatch(
      /at most 4 GiB .*as tar \(format=tar\)/,
    )
    expect(zipRefusal(Array.from({ length: 70_000 }, () => one))).toMatch(/65535 entries/)
    expect(zipRefusal([{ ...one, size: 2 ** 30 }])).toBeNull()
  })
})
