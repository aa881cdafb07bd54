// Directory archives as trees, against the built daemon over HTTP with a real
// fs store: a tree holding every kind of entry comes back identical (diff -r
// and lstat: modes, times, sizes, links); re-runs reuse unchanged files by
// their metadata and still see a same-size change behind a restored mtime
// (ctime), a file turned into a directory, a deleted and a renamed file; a
// file growing while it is read fails the backup; partial restores into
// another directory; the three conflict rules; and traversal attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  openSync,
  truncateSync,
  writeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
  chownSync,
  lchownSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'
import { canRun } from '../helpers/skip'

const asRoot = process.getuid?.() === 0

/** Whether this machine lets us mount a tmpfs (root in a container may not). */
function canMount(): boolean {
  const dir = tempDir()
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    execFileSync('umount', [dir])
    return true
  } catch {
    return false
  }
}
/** What the xattr tests lack here, or null (temp dirs must take user xattrs). */
function xattrsMissing(): string | null {
  const dir = tempDir()
  try {
    execFileSync('setfattr', ['-n', 'user.probe', '-v', '1', dir], { stdio: 'ignore' })
    return null
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'the attr tools (getfattr, setfattr)'
      : `user xattrs on ${dir}'s filesystem`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
let d: RunningDaemon
let store: string
let schedule: string
let retention: string

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

/** A files target and a job backing it up into the store. */
async function dirJob(
  path: string,
  extra: Record<string, unknown> = {},
  into = store,
): Promise<string> {
  const name = `t-${randomBytes(4).toString('hex')}`
  const target = await created('/v1/targets', {
    name,
    plugin: 'files',
    endpoint: { path, ...extra },
  })
  return created('/v1/jobs', { name, target, store: into, schedule, retention })
}

/** Runs the job; the finished task and its archive. */
async function backUp(job: string, body: Record<string, unknown> = {}) {
  const task = await runTask(d, `/v1/job/${job}/run`, { owner: 'test', ...body })
  expect(task.status, task.log).toBe('done')
  const archive = (await d.api('GET', `/v1/archive/${task.archive_uuid}`)).body
  return { task, archive }
}

const restore = (archive: any, body: Record<string, unknown>) =>
  runTask(d, `/v1/archive/${archive.uuid}/restore`, body)

/**
 * diff -r without following symlinks: '' when the trees are the same (diff
 * cannot compare fifos' or devices' contents and says so; listing() compares them).
 */
function diff(a: string, b: string): string {
  try {
    execFileSync('diff', ['-r', '--no-dereference', a, b], { encoding: 'utf8' })
    return ''
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? err)
    return out
      .split('\n')
      .filter(
        (l) => l && !/^File .* is a (fifo|character special file) while file .* is a \1$/.test(l),
      )
      .join('\n')
  }
}

/** Every entry under root with what a restore must keep (mtime to the microsecond). */
function listing(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name
      const st = lstatSync(join(root, p), { bigint: true })
      const kind = st.isSymbolicLink() ? `-> ${readlinkSync(join(root, p))}` : ''
      const mtime = st.isSymbolicLink() ? '' : String(st.mtimeNs / 1000n)
      const dev = st.isCharacterDevice() ? ` rdev=${st.rdev}` : ''
      out[p] =
        `${st.uid}:${st.gid}${dev} ${(Number(st.mode) & 0o170000).toString(8)} ${(Number(st.mode) & 0o7777).toString(8)} ${st.isFile() ? st.size : ''} nlink=${st.isFile() ? st.nlink : ''} ${mtime} ${kind}`
      if (st.isDirectory()) walk(p)
    }
  }
  walk('')
  return out
}

/** A tree with every kind of entry this user can make. */
function makeTree(root: string): void {
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, 'plain.txt'), 'plain\n')
  writeFileSync(join(root, 'unicode-é☃.txt'), 'ünïcode\n')
  writeFileSync(join(root, 'with space.txt'), 'space\n')
  writeFileSync(join(root, 'new\nline.txt'), 'newline\n')
  writeFileSync(join(root, 'empty'), '')
  mkdirSync(join(root, 'empty-dir'))
  mkdirSync(join(root, 'sub/deep'), { recursive: true })
  writeFileSync(join(root, 'sub/deep/large.bin'), randomBytes(2_500_000))
  for (let i = 0; i < 50; i++)
    writeFileSync(join(root, `sub/small-${i}.txt`), `file ${i}\n`.repeat(i + 1))
  symlinkSync('plain.txt', join(root, 'link-in'))
  symlinkSync('/etc/hostname', join(root, 'link-out'))
  symlinkSync('nowhere', join(root, 'dangling'))
  linkSync(join(root, 'plain.txt'), join(root, 'sub/hard'))
  writeFileSync(join(root, 'secret'), 'secret\n', { mode: 0o600 })
  chmodSync(join(root, 'secret'), 0o600)
  writeFileSync(join(root, 'script.sh'), '#!/bin/sh\n')
  chmodSync(join(root, 'script.sh'), 0o755)
  mkdirSync(join(root, 'shared'))
  chmodSync(join(root, 'shared'), 0o2775)
  execFileSync('mkfifo', [join(root, 'pipe')])
  if (asRoot) {
    // Devices and other owners only root can make (and restore).
    execFileSync('mknod', [join(root, 'null-dev'), 'c', '1', '3'])
    chownSync(join(root, 'secret'), 1234, 2345)
    lchownSync(join(root, 'link-in'), 1234, 2345)
  }
  utimesSync(join(root, 'plain.txt'), 1_600_000_000.123456, 1_600_000_000.123456)
  // The directory's own metadata, kept in the manifest (it has no entry).
  if (asRoot) chownSync(root, 1234, 2345)
  chmodSync(root, 0o751)
  utimesSync(root, 1_500_000_000.654321, 1_500_000_000.654321)
}

/** What a restore must give the directory itself (mtime to the microsecond). */
function rootMeta(root: string): string {
  const st = lstatSync(root, { bigint: true })
  return `${st.uid}:${st.gid} ${(Number(st.mode) & 0o7777).toString(8)} ${st.mtimeNs / 1000n}`
}

beforeAll(async () => {
  d = await startDaemon()
  store = await created('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(tempDir(), 'store') },
  })
  schedule = await created('/v1/schedules', { name: 'nightly', when: 'daily at 4am' })
  retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
})
afterAll(async () => {
  await d?.stop()
})

describe('tree archives', () => {
  it('round-trips every kind of entry: diff -r and lstat agree (owners and devices as root)', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    const { task, archive } = await backUp(await dirJob(src))
    expect(archive.format).toBe('tree')
    expect(task.log).toMatch(/files: 0 unchanged \(reused\), 0 read, \d+ new/)
    const to = join(tempDir(), 'restored')
    const done = await restore(archive, { to })
    expect(done.status, done.log).toBe('done')
    expect(diff(src, to)).toBe('')
    expect(listing(to)).toEqual(listing(src))
    expect(rootMeta(to)).toBe(rootMeta(src))
    expect(rootMeta(to)).toMatch(/ 751 1500000000\d{6}$/)
    // The hard link is a link again, not a copy.
    expect(statSync(join(to, 'sub/hard')).ino).toBe(statSync(join(to, 'plain.txt')).ino)
    expect(statSync(join(to, 'plain.txt')).nlink).toBe(2)
  })

  it('restores holes as holes: sparse files come back byte-identical and sparse', async () => {
    const src = join(tempDir(), 'src')
    mkdirSync(src)
    const MiB = 1024 * 1024
    const head = randomBytes(100_000)
    const tail = randomBytes(100_001)
    // Data, a 10 MiB hole, data; and data then a hole to the end (made by the size alone).
    writeFileSync(join(src, 'middle.img'), head)
    const fd = openSync(join(src, 'middle.img'), 'r+')
    writeSync(fd, tail, 0, tail.length, head.length + 10 * MiB)
    closeSync(fd)
    writeFileSync(join(src, 'end.img'), head)
    truncateSync(join(src, 'end.img'), 8 * MiB)
    writeFileSync(join(src, 'dense.bin'), randomBytes(3 * MiB))
    const allocated = (p: string) => statSync(p).blocks * 512
    // This filesystem makes holes (else the test would prove nothing).
    expect(allocated(join(src, 'middle.img'))).toBeLessThan(MiB)
    const { archive } = await backUp(await dirJob(src))
    const to = join(tempDir(), 'restored')
    const done = await restore(archive, { to })
    expect(done.status, done.log).toBe('done')
    for (const name of ['middle.img', 'end.img', 'dense.bin']) {
      execFileSync('cmp', [join(src, name), join(to, name)])
      expect(statSync(join(to, name)).size).toBe(statSync(join(src, name)).size)
    }
    expect(allocated(join(to, 'middle.img'))).toBeLessThan(MiB)
    expect(allocated(join(to, 'end.img'))).toBeLessThan(MiB)
    expect(allocated(join(to, 'dense.bin'))).toBeGreaterThanOrEqual(3 * MiB)
    expect(listing(to)).toEqual(listing(src))
  })

  describe.skipIf(!canRun(xattrsMissing(), 'apt-get install attr; a filesystem with user xattrs'))(
    'extended attributes',
    () => {
      /** Every attribute under root, paths relative to it (getfattr's own dump, in name order). */
      const dump = (root: string) =>
        execFileSync('getfattr', ['-R', '-d', '-m', '-', '-e', 'base64', '--no-dereference', '.'], {
          cwd: root,
          encoding: 'utf8',
        })
          .split('\n\n')
          .filter(Boolean)
          .sort()
          .join('\n\n')
      const set = (p: string, name: string, value: string) =>
        execFileSync('setfattr', ['-n', name, '-v', value, p])

      it('round-trip with the directory, files and odd names: getfattr -R agrees', async () => {
        const src = join(tempDir(), 'src')
        makeTree(src)
        set(src, 'user.root', 'the top')
        set(join(src, 'plain.txt'), 'user.note', 'hello')
        set(join(src, 'plain.txt'), 'user.bin', '0sAAEC/w==')
        set(join(src, 'plain.txt'), 'user.empty', '')
        set(join(src, 'sub'), 'user.dir', 'a directory')
        set(join(src, 'new\nline.txt'), 'user.odd=name', 'x')
        set(join(src, 'with space.txt'), 'user.s', 'y')
        set(join(src, 'unicode-é☃.txt'), 'user.é', 'ü')
        writeFileSync(join(src, 'back\\slash'), 'b')
        set(join(src, 'back\\slash'), 'user.b', 'z')
        utimesSync(src, 1_500_000_000, 1_500_000_000)
        const before = dump(src)
        expect(before).toContain('user.odd\\075name')
        const { task, archive } = await backUp(await dirJob(src))
        expect(task.log).not.toMatch(/xattrs not saved/)
        const to = join(tempDir(), 'restored')
        const done = await restore(archive, { to })
        expect(done.status, done.log).toBe('done')
        expect(done.log).not.toMatch(/xattrs not restored/)
        expect(dump(to)).toBe(before)
        expect(diff(src, to)).toBe('')
        expect(listing(to)).toEqual(listing(src))
        expect(rootMeta(to)).toBe(rootMeta(src))

        // Some paths: theirs come back, the destination's own are left alone.
        const part = join(tempDir(), 'part')
        const some = await restore(archive, { to: part, paths: ['sub', 'plain.txt'] })
        expect(some.status, some.log).toBe('done')
        const got = dump(part)
        expect(got).toContain('# file: sub\nuser.dir=')
        expect(got).toContain('user.note=0saGVsbG8=')
        expect(got).not.toContain('user.root')
      })

      it('a daemon without the attr tools still backs up, saying once what it left out', async () => {
        const emptyPath = tempDir()
        const bare = await startDaemon({ env: { PATH: emptyPath } })
        try {
          const src = join(tempDir(), 'src')
          mkdirSync(src)
          writeFileSync(join(src, 'f'), 'f')
          set(join(src, 'f'), 'user.note', 'kept?')
          const post = async (path: string, body: unknown) =>
            (await bare.api('POST', path, body)).body.uuid as string
          const st = await post('/v1/stores', {
            name: 'local',
            plugin: 'fs',
            endpoint: { path: join(tempDir(), 'store') },
          })
          const target = await post('/v1/targets', {
            name: 't',
            plugin: 'files',
            endpoint: { path: src },
          })
          const sched = await post('/v1/schedules', { name: 'n', when: 'daily at 4am' })
          const ret = await post('/v1/retention', { name: 'w', expires: 86400 })
          const job = await post('/v1/jobs', {
            name: 'j',
            target,
            store: st,
            schedule: sched,
            retention: ret,
          })
          const task = await runTask(bare, `/v1/job/${job}/run`, { owner: 'test' })
          expect(task.status, task.log).toBe('done')
          expect(task.log.match(/xattrs not saved: install the attr package/g)).toHaveLength(1)
        } finally {
          await bare.stop()
        }
      })
    },
  )

  it('re-runs reuse unchanged files and see every kind of change', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    const job = await dirJob(src)
    await backUp(job)
    const again = await backUp(job)
    expect(again.task.log).toMatch(/files: 5[0-9] unchanged \(reused\), 0 read, 0 new/)
    expect(again.task.log).toContain('0 B read of')
    // Nothing new but the manifest.
    expect(again.archive.new_bytes).toBeLessThan(4096)

    // Same size, mtime put back: only ctime tells.
    const same = join(src, 'sub/small-3.txt')
    const before = statSync(same)
    writeFileSync(same, readFileSync(same, 'utf8').toUpperCase())
    utimesSync(same, before.atime, before.mtime)
    expect(statSync(same).size).toBe(before.size)
    // A file replaced by a directory, a deleted file, a renamed file.
    rmSync(join(src, 'with space.txt'))
    mkdirSync(join(src, 'with space.txt'))
    writeFileSync(join(src, 'with space.txt/inside'), 'inside\n')
    rmSync(join(src, 'sub/small-7.txt'))
    renameSync(join(src, 'sub/small-8.txt'), join(src, 'sub/renamed-8.txt'))
    const third = await backUp(job)
    // small-3 read; inside and renamed-8 new (a rename is a new path; its bytes dedup).
    expect(third.task.log).toMatch(/unchanged \(reused\), 1 read, 2 new/)
    const to = join(tempDir(), 'restored')
    const done = await restore(third.archive, { to })
    expect(done.status, done.log).toBe('done')
    expect(diff(src, to)).toBe('')
    expect(listing(to)).toEqual(listing(src))

    // full_read reads everything again, and finds nothing new to store.
    const full = await backUp(job, { full_read: true })
    expect(full.task.log).toContain('reading every file (full read asked for)')
    expect(full.task.log).toMatch(/0 unchanged \(reused\), 5[0-9] read, 0 new/)
    expect(full.archive.new_bytes).toBeLessThan(4096)
  })

  it('reads every file every Nth run with reread_every', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    const job = await dirJob(src, { reread_every: 2 })
    await backUp(job)
    const second = await backUp(job)
    expect(second.task.log).toMatch(/5[0-9] unchanged \(reused\), 0 read/)
    const third = await backUp(job)
    expect(third.task.log).toContain(
      'reading every file (reread_every 2: 2 run(s) since the last full read)',
    )
    expect(third.task.log).toMatch(/0 unchanged \(reused\), 5[0-9] read/)
    const fourth = await backUp(job)
    expect(fourth.task.log).toMatch(/5[0-9] unchanged \(reused\), 0 read/)
  })

  it('fails clearly when a file grows while it is read', async () => {
    const src = join(tempDir(), 'src')
    mkdirSync(src)
    const growing = join(src, 'growing.log')
    writeFileSync(growing, randomBytes(16 * 1024 * 1024))
    const writer = spawn('sh', ['-c', `while :; do head -c 65536 /dev/zero >> '${growing}'; done`])
    try {
      const res = await d.api('POST', `/v1/job/${await dirJob(src)}/run`, { owner: 'test' })
      const task = await waitForTask(d, res.body.task_uuid)
      expect(task.status).toBe('failed')
      expect(task.error).toContain('a file changed while it was being backed up')
      expect(task.error).toContain('growing.log')
    } finally {
      writer.kill()
    }
  })

  it('honours exclude, .bulwarkignore and restores parts into another directory', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    mkdirSync(join(src, 'cache'))
    writeFileSync(join(src, 'cache/x'), 'x')
    writeFileSync(join(src, 'sub/note.log'), 'log')
    writeFileSync(join(src, 'sub/.bulwarkignore'), 'small-1*\n')
    const { archive } = await backUp(await dirJob(src, { exclude: ['*.log', 'cache/*'] }))
    const all = join(tempDir(), 'all')
    expect((await restore(archive, { to: all })).status).toBe('done')
    expect(existsSync(join(all, 'cache'))).toBe(true)
    expect(existsSync(join(all, 'cache/x'))).toBe(false)
    expect(existsSync(join(all, 'sub/note.log'))).toBe(false)
    expect(existsSync(join(all, 'sub/small-12.txt'))).toBe(false)
    expect(existsSync(join(all, 'sub/small-2.txt'))).toBe(true)

    const part = join(tempDir(), 'part')
    mkdirSync(part)
    chmodSync(part, 0o705)
    const done = await restore(archive, { to: part, paths: ['plain.txt', 'sub/deep'] })
    expect(done.status, done.log).toBe('done')
    // A restore of some paths leaves the destination's own mode alone.
    expect(lstatSync(part).mode & 0o7777).toBe(0o705)
    expect(readdirSync(part).sort()).toEqual(['plain.txt', 'sub'])
    expect(readdirSync(join(part, 'sub'))).toEqual(['deep'])
    expect(diff(join(src, 'sub/deep'), join(part, 'sub/deep'))).toBe('')
    expect(readFileSync(join(part, 'plain.txt'), 'utf8')).toBe('plain\n')
  })

  // Mounting needs root (and a kernel that lets this sandbox mount tmpfs).
  it.skipIf(!asRoot || !canMount())(
    'stays on one filesystem when asked: the mount point is kept, empty',
    async () => {
      const src = join(tempDir(), 'src')
      mkdirSync(join(src, 'mnt'), { recursive: true })
      writeFileSync(join(src, 'here'), 'here\n')
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(src, 'mnt')])
      try {
        writeFileSync(join(src, 'mnt/elsewhere'), 'elsewhere\n')
        const { task, archive } = await backUp(await dirJob(src, { one_file_system: true }))
        expect(task.log).toContain('is on another filesystem: its contents are left out')
        const to = join(tempDir(), 'to')
        expect((await restore(archive, { to })).status).toBe('done')
        expect(readdirSync(to).sort()).toEqual(['here', 'mnt'])
        expect(readdirSync(join(to, 'mnt'))).toEqual([])
        const all = await backUp(await dirJob(src))
        const to2 = join(tempDir(), 'to2')
        expect((await restore(all.archive, { to: to2 })).status).toBe('done')
        expect(readdirSync(join(to2, 'mnt'))).toEqual(['elsewhere'])
      } finally {
        execFileSync('umount', [join(src, 'mnt')])
      }
    },
  )

  it('refuses, overwrites or keeps both where files exist', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    const { archive } = await backUp(await dirJob(src))
    const to = join(tempDir(), 'to')
    mkdirSync(to)
    writeFileSync(join(to, 'plain.txt'), 'mine\n')
    writeFileSync(join(to, 'other'), 'untouched\n')

    const refused = await restore(archive, { to })
    expect(refused.status).toBe('failed')
    expect(refused.error).toContain('refused before writing anything')
    expect(refused.error).toContain('plain.txt')
    expect(readdirSync(to).sort()).toEqual(['other', 'plain.txt'])

    const kept = await restore(archive, { to, paths: ['plain.txt'], conflict: 'keep-both' })
    expect(kept.status, kept.log).toBe('done')
    expect(readFileSync(join(to, 'plain.txt'), 'utf8')).toBe('mine\n')
    const beside = readdirSync(to).filter((n) => /^plain\.restored-\d{8}-\d{6}\.txt$/.test(n))
    expect(beside).toHaveLength(1)
    expect(readFileSync(join(to, beside[0]!), 'utf8')).toBe('plain\n')

    const over = await restore(archive, { to, paths: ['plain.txt'], conflict: 'overwrite' })
    expect(over.status, over.log).toBe('done')
    expect(readFileSync(join(to, 'plain.txt'), 'utf8')).toBe('plain\n')
    expect(readFileSync(join(to, 'other'), 'utf8')).toBe('untouched\n')
    // No temporary file left behind.
    expect(readdirSync(to).filter((n) => n.includes('.bulwark-'))).toEqual([])
  })

  it('refuses traversal: bad paths and a relative "to" (400), symlinks out of the destination', async () => {
    const src = join(tempDir(), 'src')
    makeTree(src)
    const { archive } = await backUp(await dirJob(src))
    const post = (body: unknown) => d.api('POST', `/v1/archive/${archive.uuid}/restore`, body)
    for (const paths of [['../etc/passwd'], ['sub/../../x'], ['/etc/passwd'], ['no/such/file']]) {
      const res = await post({ paths, to: join(tempDir(), 'x') })
      expect(res.status, JSON.stringify(paths)).toBe(400)
      expect(res.body.error.field).toBe('paths')
    }
    const rel = await post({ to: 'relative/dir' })
    expect(rel.status).toBe(400)
    expect(rel.body.error.field).toBe('to')

    // The destination's "sub" is a symlink to a directory outside it.
    const outside = tempDir()
    const to = join(tempDir(), 'to')
    mkdirSync(to)
    symlinkSync(outside, join(to, 'sub'))
    const refused = await restore(archive, { to, paths: ['sub/deep'] })
    expect(refused.status).toBe('failed')
    expect(refused.error).toContain('sub (not a directory in the destination)')
    const kept = await restore(archive, { to, paths: ['sub/deep'], conflict: 'keep-both' })
    expect(kept.status).toBe('failed')
    const over = await restore(archive, { to, paths: ['sub/deep'], conflict: 'overwrite' })
    expect(over.status, over.log).toBe('done')
    expect(readdirSync(outside)).toEqual([])
    expect(lstatSync(join(to, 'sub')).isDirectory()).toBe(true)
    expect(diff(join(src, 'sub/deep'), join(to, 'sub/deep'))).toBe('')
  })

  it('removes what a failed restore added, says so, and leaves no temporary file', async () => {
    const src = join(tempDir(), 'src')
    mkdirSync(join(src, 'a'), { recursive: true })
    for (let i = 0; i < 20; i++) writeFileSync(join(src, `a/f${i}`), `small ${i}\n`)
    // Written after the small files (tree order), in chunks of its own.
    writeFileSync(join(src, 'z-large.bin'), randomBytes(3_000_000))
    // A store of its own, so its biggest chunk object is one of the large file's.
    const own = join(tempDir(), 'store')
    const ownStore = await created('/v1/stores', {
      name: 'own',
      plugin: 'fs',
      endpoint: { path: own },
    })
    const { archive } = await backUp(await dirJob(src, {}, ownStore))
    const chunks = readdirSync(join(own, 'chunks'), { recursive: true })
      .map((p) => join(own, 'chunks', String(p)))
      .filter((p) => statSync(p).isFile())
      .sort((a, b) => statSync(b).size - statSync(a).size)
    rmSync(chunks[0]!)
    const to = join(tempDir(), 'to')
    const failed = await restore(archive, { to })
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(
      /failed after \d+ of 22 entries; the \d+ it had added were removed again, and no temporary file is left/,
    )
    expect(failed.error).toContain('is missing from the store')
    // The directory it created is gone again; one that existed keeps only what was there.
    expect(existsSync(to)).toBe(false)
    mkdirSync(to)
    writeFileSync(join(to, 'mine'), 'mine\n')
    const again = await restore(archive, { to })
    expect(again.status).toBe('failed')
    expect(readdirSync(to)).toEqual(['mine'])
  })

  it('cancels a backup and a restore midway, leaving nothing half-made', async () => {
    const src = join(tempDir(), 'src')
    mkdirSync(src)
    for (let i = 0; i < 4; i++) writeFileSync(join(src, `big-${i}`), randomBytes(48 * 1024 * 1024))
    const job = await dirJob(src)
    /** Starts the task, cancels it once it has moved some bytes, and waits for its end. */
    const run = async (path: string, body: unknown) => {
      const uuid = (await d.api('POST', path, body)).body.task_uuid
      for (;;) {
        const t = (await d.api('GET', `/v1/task/${uuid}`)).body
        if (t.bytes > 0 || !['pending', 'running'].includes(t.status)) break
        await new Promise((r) => setTimeout(r, 20))
      }
      await d.api('DELETE', `/v1/task/${uuid}`)
      return waitForTask(d, uuid)
    }
    const canceled = await run(`/v1/job/${job}/run`, { owner: 'test' })
    expect(canceled.status, canceled.log).toBe('canceled')
    expect((await d.api('GET', `/v1/archives?job=${job}`)).body).toEqual([])

    const { archive } = await backUp(job)
    const to = join(tempDir(), 'to')
    const stopped = await run(`/v1/archive/${archive.uuid}/restore`, { to })
    expect(stopped.status, stopped.log).toBe('canceled')
    // Nothing half-made: the directory it created is gone again.
    expect(existsSync(to)).toBe(false)
    const done = await restore(archive, { to })
    expect(done.status, done.log).toBe('done')
    expect(diff(src, to)).toBe('')
  }, 120_000)

  it('takes no paths for a stream archive', async () => {
    const file = join(tempDir(), 'data')
    writeFileSync(file, 'stream\n')
    const target = await created('/v1/targets', {
      name: 'exec',
      plugin: 'exec',
      endpoint: { backup_command: `cat ${file}`, restore_command: 'cat >/dev/null' },
    })
    const job = await created('/v1/jobs', { name: 'exec', target, store, schedule, retention })
    const { archive } = await backUp(job)
    expect(archive.format).toBe('vault')
    const res = await d.api('POST', `/v1/archive/${archive.uuid}/restore`, { paths: ['x'] })
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe('paths')
    expect(res.body.error.message).toContain('apply only to directory (tree) archives')
  })
})
