import { mkdtemp, mkdir, readdir, rm, stat, utimes, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { PluginError, PluginNotFoundError } from '../../sdk/errors'
import { testContext } from '../../sdk/conformance/services'
import { storeConformance } from '../../sdk/conformance/store-suite'
import fsStore from './index'
import { describeFsError } from './errors'
import { TEMP_FILE } from './temp-files'
import type { StorePlugin } from '../../sdk/types'
import { fsInterruptedPut } from '../../../test/helpers/interrupted-puts'
import { skipTest } from '../../../test/helpers/skip'

const dirs: string[] = []
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-fs-'))
  dirs.push(dir)
  return join(dir, 'store') // missing on purpose: put and test() must create it
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** Every path under dir, relative, including dot-files. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true })
  return entries.map(String).sort()
}

storeConformance('fs', async () => ({ path: await freshDir() }), {
  interruptedPut: fsInterruptedPut,
})

const store = fsStore.plugin as StorePlugin
const ctx = () => testContext()
const putText = (root: string, key: string, text: string) =>
  store.put({ path: root }, key, Readable.from([Buffer.from(text)]), ctx())

describe('store fs', () => {
  it('creates the root and nested directories 0700 and objects 0600', async () => {
    const root = await freshDir()
    await putText(root, 'jobs/nightly/a.bulwark', 'x')
    expect((await stat(root)).mode & 0o777).toBe(0o700)
    expect((await stat(join(root, 'jobs/nightly'))).mode & 0o777).toBe(0o700)
    expect((await stat(join(root, 'jobs/nightly/a.bulwark'))).mode & 0o777).toBe(0o600)
  })

  it('leaves no temporary file behind after a put fails midway', async () => {
    const root = await freshDir()
    await putText(root, 'k/first', 'ok')
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(100_000))
        this.destroy(new Error('upstream broke'))
      },
    })
    await expect(store.put({ path: root }, 'k/second', failing, ctx())).rejects.toThrow(
      'upstream broke',
    )
    expect(await tree(root)).toEqual(['k', 'k/first'])
  })

  it('leaves no temporary file behind after an abort', async () => {
    const root = await freshDir()
    const c = ctx()
    const endless = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(65536)), 1)
      },
    })
    const pending = store.put({ path: root }, 'x/y', endless, c)
    setTimeout(() => c.controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ name: 'PluginAbortedError' })
    expect(await tree(root)).toEqual(['x'])
  })

  it('an abort before the data is read rejects the put, and never throws from the stream', async () => {
    // The caller's stream has no 'error' listener yet: destroying it with an
    // error would be an uncaught exception (and end the daemon).
    const root = await freshDir()
    for (let i = 0; i < 20; i++) {
      const c = ctx()
      const pending = store.put({ path: root }, `k/${i}`, Readable.from([Buffer.from('x')]), c)
      c.controller.abort()
      await expect(pending).rejects.toMatchObject({ name: 'PluginAbortedError' })
    }
    expect(await tree(root)).toEqual(['k'])
  })

  it('list skips temporary and foreign files', async () => {
    const root = await freshDir()
    await putText(root, 'a/real', 'r')
    await writeFile(join(root, 'a', '.tmp~abc~real'), 'partial')
    await writeFile(join(root, 'a', 'has space'), 'foreign')
    const seen: string[] = []
    for await (const o of store.list({ path: root }, '', ctx())) seen.push(o.key)
    expect(seen).toEqual(['a/real'])
  })

  it('an invalid key cannot reach outside the root', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'bulwark-fs-'))
    dirs.push(parent)
    const root = join(parent, 'store')
    await expect(putText(root, '../escaped', 'x')).rejects.toThrow('invalid store key')
    expect(await readdir(parent)).toEqual([])
  })

  it('get names the key and the store when the object is missing', async () => {
    const root = await freshDir()
    await putText(root, 'no/other', 'x')
    for (const key of ['no/such', 'no']) {
      const err = await store.get({ path: root }, key, ctx()).catch((e: Error) => e)
      expect(err).toBeInstanceOf(PluginNotFoundError)
      expect((err as Error).message).toBe(`no object ${key} in store ${root}`)
    }
  })

  it('cleanup removes the temporary file of a put that never finished, by age', async () => {
    const root = await freshDir()
    await putText(root, 'keep/me', 'whole')
    // A put whose source stalls after 1 MiB: its temporary file is the real one.
    const c = ctx()
    let fed = 0
    const stalled = new Readable({
      read() {
        if (fed < 4) this.push(Buffer.alloc(256 * 1024, ++fed))
      },
    })
    const pending = store.put({ path: root }, 'keep/partial', stalled, c)
    const temp = async () => (await readdir(join(root, 'keep'))).filter((n) => TEMP_FILE.test(n))
    while ((await temp()).length === 0) await new Promise((r) => setTimeout(r, 5))
    const [name] = await temp()
    c.controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'PluginAbortedError' })
    expect(await temp()).toEqual([]) // an abort removes its own file...
    // ...a crash cannot: what a SIGKILL mid-put leaves is that very file, part-written.
    const leftover = join(root, 'keep', name!)
    await writeFile(leftover, Buffer.alloc(1024 * 1024, 1))
    const hourAgo = new Date(Date.now() - 3_600_000)
    await utimes(leftover, hourAgo, hourAgo)
    await fsInterruptedPut.leave({ path: root }, 'keep/recent') // written just now
    await writeFile(join(root, '.probe~0123456789ab'), 'probe of a test() that died')
    await utimes(join(root, '.probe~0123456789ab'), hourAgo, hourAgo)

    const tenMinutes = await store.cleanup!({ path: root }, 600_000, ctx())
    expect(tenMinutes).toEqual({ removed: 2, bytes: 1024 * 1024 + 27 })
    expect((await temp()).length).toBe(1) // the recent one: a put may still be writing it
    expect(await store.cleanup!({ path: root }, 0, ctx())).toEqual({ removed: 1, bytes: 1000 })
    expect(await tree(root)).toEqual(['keep', 'keep/me'])
    expect(await store.cleanup!({ path: root }, 0, ctx())).toEqual({ removed: 0, bytes: 0 })
  })

  it('cleanup of a store directory that does not exist yet removes nothing', async () => {
    expect(await store.cleanup!({ path: await freshDir() }, 0, ctx())).toEqual({
      removed: 0,
      bytes: 0,
    })
  })

  it('refuses a relative store path', async () => {
    await expect(putText('relative/dir', 'k', 'x')).rejects.toThrow('must be an absolute path')
  })

  it('test() creates the root, cleans up its probe and reports free space', async () => {
    const root = await freshDir()
    const line = await store.test({ path: root }, ctx())
    expect(line).toMatch(
      new RegExp(`^directory ${root} is writable; [\\d.]+ (bytes|[KMGTP]iB) free$`),
    )
    expect(await readdir(root)).toEqual([])
  })

  it('test() explains a file in the way', async () => {
    const root = await freshDir()
    await mkdir(join(root, '..'), { recursive: true })
    await writeFile(root, 'i am a file')
    await expect(store.test({ path: root }, ctx())).rejects.toThrow('a file is in the way')
    await expect(putText(root, 'k', 'x')).rejects.toThrow('a file is in the way')
  })

  it('test() and put explain a real permission problem', async (t) => {
    // Root ignores mode bits, so as root use sysfs, which refuses new entries even to root.
    let root: string
    if (process.getuid?.() === 0) {
      root = `/sys/bulwark-${process.pid}`
      const code = await mkdir(root).then(
        () => 'created',
        (e: NodeJS.ErrnoException) => e.code,
      )
      if (code !== 'EPERM' && code !== 'EACCES')
        skipTest(t, `a sysfs that refuses new entries (it answers ${code}, not EPERM)`)
    } else {
      const parent = await mkdtemp(join(tmpdir(), 'bulwark-fs-'))
      dirs.push(parent)
      await chmod(parent, 0o500)
      root = join(parent, 'store')
    }
    const message = `Bulwark cannot write to ${root}: permission denied; give the daemon's user write access or choose another directory`
    await expect(store.test({ path: root }, ctx())).rejects.toThrow(message)
    await expect(putText(root, 'k', 'x')).rejects.toThrow(message)
  })

  it('maps file-system errors to messages a person can act on', () => {
    const e = (code: string) => Object.assign(new Error(code), { code, syscall: 'write' })
    const root = '/var/backups/bulwark'
    expect(describeFsError(e('ENOSPC'), root).message).toContain(
      'the disk holding /var/backups/bulwark is full',
    )
    expect(describeFsError(e('EACCES'), root).message).toBe(
      "Bulwark cannot write to /var/backups/bulwark: permission denied; give the daemon's user write access or choose another directory",
    )
    expect(describeFsError(e('EROFS'), root).message).toContain('read-only')
    expect(describeFsError(e('ENOTDIR'), root).message).toContain('a file is in the way')
    for (const code of ['EIO', 'EAGAIN', 'EBUSY', 'ECONNRESET', 'ETIMEDOUT', 'ESTALE']) {
      expect(describeFsError(e(code), root).kind, code).toBe('transient')
    }
    for (const code of ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR']) {
      expect(describeFsError(e(code), root).kind, code).toBe('permanent')
    }
    expect(describeFsError(e('ENOSPC'), root)).toBeInstanceOf(PluginError)
  })
})
