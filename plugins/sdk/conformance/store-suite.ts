// What every store plugin must do, as a vitest suite. A plugin's test file runs it in one line:
//   storeConformance('fs', () => ({ path: tmpDir }))
// makeEndpoint is called before each test; every test keeps its keys under a
// fresh random prefix, so a shared bucket works as well as a fresh directory.
// A store that cannot do something through this interface (an external-protocol
// store has no stat or listing) says so in `cannot`: the checks that need it
// are skipped for that store alone, and its capabilities must not claim it.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError, PluginNotFoundError, isNotFound } from '../errors'
import { retryableBody, rewind } from '../retryable-body'
import { storeCapabilities, type Endpoint, type StoredObject, type StorePlugin } from '../types'
import { loadPlugin, readAll, rejection, testContext } from './services'
import { MiB, sha256, source } from './sources'

/** What a store may be unable to do: stat (head), list, or tell a missing key from other failures. */
export type StoreInability = 'head' | 'list' | 'typedNotFound'

export interface StoreConformanceOptions {
  /** The plugin under test; by default plugins/stores/<name>/index.ts. */
  plugin?: StorePlugin
  /** What this store cannot do; the checks that need it are skipped. */
  cannot?: StoreInability[]
  /**
   * Needed when the plugin has cleanup(): `leave` makes what a put of key
   * interrupted by a crash leaves behind (a temporary file, an incomplete
   * multipart upload), the way the plugin's put makes it; `count` counts such
   * leftovers under the endpoint.
   */
  interruptedPut?: {
    leave(endpoint: Endpoint, key: string): Promise<void>
    count(endpoint: Endpoint): Promise<number>
  }
}

export function storeConformance(
  name: string,
  makeEndpoint: () => Promise<Endpoint> | Endpoint,
  opts: StoreConformanceOptions = {},
): void {
  describe(`store ${name}: conformance`, () => {
    let store: StorePlugin
    let ep: Endpoint
    let ns: string
    const can = (what: StoreInability) => !opts.cannot?.includes(what)
    const k = (key: string) => `${ns}${key}`
    const ctx = () => testContext()
    const put = (key: string, data: Buffer | Readable) =>
      store.put(ep, key, Buffer.isBuffer(data) ? Readable.from([data]) : data, ctx())
    const fetch = async (key: string) => readAll(await store.get(ep, key, ctx()))
    const keys = async (prefix: string) => {
      const found: StoredObject[] = []
      for await (const o of store.list(ep, prefix, ctx())) found.push(o)
      return found.map((o) => o.key).sort()
    }
    /** Nothing under key: head says so, or (without head) get rejects. */
    const expectAbsent = async (key: string) => {
      if (can('head')) return expect(await store.head(ep, key, ctx())).toBeNull()
      const err = await rejection(store.get(ep, key, ctx()))
      expect(err).toBeInstanceOf(PluginError)
      if (can('typedNotFound')) expect(err).toBeInstanceOf(PluginNotFoundError)
    }
    /** The keys under this test's prefix are exactly these (when the store can list). */
    const expectOnly = async (expected: string[]) => {
      if (can('list')) expect(await keys(ns)).toEqual(expected.sort())
    }

    beforeAll(async () => {
      store = opts.plugin ?? (await loadPlugin('store', name))
    })
    beforeEach(async () => {
      ep = await makeEndpoint()
      ns = `conformance-${randomBytes(4).toString('hex')}/`
    })

    it('round-trips an empty object', async () => {
      expect(await store.put(ep, k('empty'), Readable.from([]), ctx())).toEqual({
        key: k('empty'),
        size: 0,
      })
      expect((await fetch(k('empty'))).length).toBe(0)
      if (can('head')) {
        expect(await store.head(ep, k('empty'), ctx())).toEqual({ key: k('empty'), size: 0 })
      }
    })

    it('round-trips a small object', async () => {
      const data = Buffer.from('hello, store\n\u0000\u00ff')
      expect(await put(k('small.txt'), data)).toEqual({ key: k('small.txt'), size: data.length })
      expect((await fetch(k('small.txt'))).equals(data)).toBe(true)
    })

    it('round-trips 5 MiB of random data streamed in 64 KiB chunks', async () => {
      const src = source(5 * MiB)
      const stored = await put(k('big/blob.bin'), src.stream)
      expect(stored).toEqual({ key: k('big/blob.bin'), size: 5 * MiB })
      const back = await fetch(k('big/blob.bin'))
      expect(back.length).toBe(5 * MiB)
      expect(sha256(back)).toBe(src.digest())
    })

    it('overwrites an object', async () => {
      await put(k('o'), Buffer.alloc(1000, 1))
      await put(k('o'), Buffer.from('second'))
      expect((await fetch(k('o'))).toString()).toBe('second')
      if (can('head')) expect(await store.head(ep, k('o'), ctx())).toEqual({ key: k('o'), size: 6 })
    })

    it.skipIf(!can('head'))(
      'head reports the size, or null for a missing key or a mere prefix',
      async () => {
        await put(k('dir/obj'), Buffer.alloc(1234))
        expect(await store.head(ep, k('dir/obj'), ctx())).toEqual({ key: k('dir/obj'), size: 1234 })
        expect(await store.head(ep, k('missing'), ctx())).toBeNull()
        expect(await store.head(ep, k('dir'), ctx())).toBeNull()
      },
    )

    it.skipIf(!can('list'))('lists by prefix, recursively, with sizes', async () => {
      for (const key of ['a/1', 'a/2', 'a/b/3', 'ab', 'b/1']) await put(k(key), Buffer.from(key))
      expect(await keys(k('a/'))).toEqual([k('a/1'), k('a/2'), k('a/b/3')])
      expect(await keys(k('a'))).toEqual([k('a/1'), k('a/2'), k('a/b/3'), k('ab')])
      expect(await keys(k('a/b'))).toEqual([k('a/b/3')])
      expect(await keys(k('zzz'))).toEqual([])
      expect(await keys(ns)).toHaveLength(5)
      expect(await keys('')).toEqual(expect.arrayContaining([k('a/1'), k('b/1')]))
      const sized: StoredObject[] = []
      for await (const o of store.list(ep, k('a/b/'), ctx())) sized.push(o)
      expect(sized).toEqual([{ key: k('a/b/3'), size: 5 }])
    })

    it('deletes, and deleting a missing key is fine', async () => {
      await put(k('gone'), Buffer.from('x'))
      await store.delete(ep, k('gone'), ctx())
      await expectAbsent(k('gone'))
      await expectOnly([])
      await expect(store.delete(ep, k('gone'), ctx())).resolves.toBeUndefined()
      await expect(store.delete(ep, k('never/was'), ctx())).resolves.toBeUndefined()
    })

    it('get of a missing key rejects with a permanent PluginNotFoundError naming it', async () => {
      const err = await rejection(store.get(ep, k('nothing'), ctx()))
      expect(err).toBeInstanceOf(PluginError)
      expect((err as PluginError).kind).toBe('permanent')
      expect(err.message).toContain(k('nothing'))
      if (can('typedNotFound')) {
        expect(err).toBeInstanceOf(PluginNotFoundError)
        expect(err.name).toBe('PluginNotFoundError')
        expect(isNotFound(err)).toBe(true)
      }
      // Other failures are not "not found": an invalid key is refused otherwise.
      expect(isNotFound(await rejection(store.get(ep, '../escape', ctx())))).toBe(false)
    })

    it('declares well-formed capabilities, claiming only what it can do', () => {
      const declared = store.capabilities
      if (declared !== undefined) {
        for (const flag of ['vault', 'atomicPut', 'rangedGet'] as const) {
          expect(typeof declared[flag], flag).toBe('boolean')
        }
        expect(Number.isInteger(declared.connections)).toBe(true)
        expect(declared.connections).toBeGreaterThanOrEqual(1)
        expect(declared.connections).toBeLessThanOrEqual(1024)
      }
      const caps = storeCapabilities(store)
      // A vault needs head and list.
      if (!can('head') || !can('list')) expect(caps.vault).toBe(false)
    })

    it('stores a retryableBody, and its rewound copy gives the same object', async () => {
      const parts = [randomBytes(70_000), Buffer.alloc(0), randomBytes(3), randomBytes(200_000)]
      const whole = Buffer.concat(parts)
      const body = retryableBody(parts)
      const again = rewind(body)
      expect(again).toBeTypeOf('function')
      expect(await put(k('retry/a'), body)).toEqual({ key: k('retry/a'), size: whole.length })
      expect((await fetch(k('retry/a'))).equals(whole)).toBe(true)
      // The first stream is spent; the rewound one is whole again.
      expect(await put(k('retry/b'), again!())).toEqual({ key: k('retry/b'), size: whole.length })
      expect((await fetch(k('retry/b'))).equals(whole)).toBe(true)
    })

    it('serves byte ranges when it declares rangedGet', async () => {
      if (!storeCapabilities(store).rangedGet) return
      const data = randomBytes(300_000)
      await put(k('ranged'), data)
      const range = async (offset: number, length: number) =>
        readAll(await store.get(ep, k('ranged'), ctx(), { range: { offset, length } }))
      expect((await range(1000, 5000)).equals(data.subarray(1000, 6000))).toBe(true)
      expect((await range(0, 1)).equals(data.subarray(0, 1))).toBe(true)
      expect((await range(299_990, 100)).equals(data.subarray(299_990))).toBe(true)
      expect((await range(5, 0)).length).toBe(0)
      expect(
        isNotFound(
          await rejection(store.get(ep, k('nope'), ctx(), { range: { offset: 0, length: 1 } })),
        ),
      ).toBe(can('typedNotFound'))
    })

    it('cleanup (if it has one) removes what interrupted puts left, and nothing else', async () => {
      if (!store.cleanup) return
      const leftovers = opts.interruptedPut
      if (!leftovers) {
        throw new Error('this store has cleanup(): give storeConformance an interruptedPut option')
      }
      await put(k('whole/a'), Buffer.from('complete a'))
      await put(k('b'), Buffer.from('complete b'))
      const before = await leftovers.count(ep)
      await leftovers.leave(ep, k('whole/partial'))
      await leftovers.leave(ep, k('partial'))
      expect(await leftovers.count(ep)).toBe(before + 2)
      // Young leftovers stay (a put may still be running); old ones go.
      const young = await store.cleanup(ep, 3_600_000, ctx())
      expect(young).toEqual({ removed: 0, bytes: 0 })
      expect(await leftovers.count(ep)).toBe(before + 2)
      const old = await store.cleanup(ep, 0, ctx())
      expect(old.removed).toBeGreaterThanOrEqual(2)
      expect(old.bytes).toBeGreaterThanOrEqual(0)
      expect(await leftovers.count(ep)).toBe(0)
      expect((await fetch(k('whole/a'))).toString()).toBe('complete a')
      expect((await fetch(k('b'))).toString()).toBe('complete b')
      await expectOnly([k('b'), k('whole/a')])
      await expectAbsent(k('whole/partial'))
      await expectAbsent(k('partial'))
    })

    it('a put whose source fails midway leaves nothing under the key', async () => {
      const src = source(4 * MiB, { failAt: MiB })
      const err = await rejection(put(k('broken'), src.stream))
      expect(err.message).toContain('source failed on purpose')
      await expectAbsent(k('broken'))
      await expectOnly([])
    })

    it('a failed overwrite keeps the previous object whole', async () => {
      await put(k('keep'), Buffer.from('original'))
      await rejection(put(k('keep'), source(2 * MiB, { failAt: MiB }).stream))
      expect((await fetch(k('keep'))).toString()).toBe('original')
      await expectOnly([k('keep')])
    })

    it('an aborted put rejects with PluginAbortedError and leaves nothing', async () => {
      const src = source(1024 * MiB, { delayMs: 2 })
      const c = ctx()
      const pending = store.put(ep, k('aborted'), src.stream, c)
      while (src.made() < 256 * 1024) await new Promise((r) => setTimeout(r, 5))
      c.controller.abort()
      expect(await rejection(pending)).toBeInstanceOf(PluginAbortedError)
      const made = src.made()
      await new Promise((r) => setTimeout(r, 200))
      expect(src.made()).toBe(made) // it stopped reading the source, rather than running on
      await expectAbsent(k('aborted'))
      await expectOnly([])
    })

    it('a put with an already aborted signal stores nothing', async () => {
      const c = ctx()
      c.controller.abort()
      const err = await rejection(store.put(ep, k('pre'), Readable.from([Buffer.from('x')]), c))
      expect(err).toBeInstanceOf(PluginAbortedError)
      await expectAbsent(k('pre'))
    })

    it('aborting a get errors its stream with PluginAbortedError', async () => {
      await put(k('read-me'), source(5 * MiB).stream)
      const c = ctx()
      const stream = await store.get(ep, k('read-me'), c)
      const err = await rejection(
        (async () => {
          for await (const _chunk of stream) c.controller.abort()
        })(),
      )
      expect(err).toBeInstanceOf(PluginAbortedError)
    })

    it.each(['../x', '/abs', 'a//b', '', 'a/./b', 'a/', 'sp ace', 'a\\b', '~tmp'])(
      'rejects the invalid key %j everywhere',
      async (bad) => {
        // Both as given (escaping the store) and inside this test's prefix.
        for (const key of [bad, `${ns}${bad}`]) {
          await rejection(put(key, Buffer.from('x')))
          await rejection(store.get(ep, key, ctx()))
          if (can('head')) await rejection(store.head(ep, key, ctx()))
          await rejection(store.delete(ep, key, ctx()))
        }
        await expectOnly([])
      },
    )

    it('test() describes the store in a line', async () => {
      const line = await store.test(ep, ctx())
      expect(typeof line).toBe('string')
      expect(line.length).toBeGreaterThan(0)
      expect(line).not.toContain('\n')
    })
  })
}
