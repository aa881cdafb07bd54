// The decorators every store is wrapped in (src-daemon/plugin-host/store-wrappers.ts)
// around the real fs store in real directories: retry driven by the error's
// kind, the connection limit, and the conformance suite through both the
// wrapper alone and the wrapper over a store that fails one call in three.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError, PluginNotFoundError } from '../../plugins/sdk/errors'
import { retryableBody } from '../../plugins/sdk/retryable-body'
import { readAll, rejection, testContext } from '../../plugins/sdk/conformance/services'
import { storeConformance } from '../../plugins/sdk/conformance/store-suite'
import type { StorePlugin } from '../../plugins/sdk/types'
import fsModule from '../../plugins/stores/fs/index'
import { wrapStore, type WrapOptions } from '../../src-daemon/plugin-host/store-wrappers'
import { faultyStore } from '../helpers/faulty-store'
import { fsInterruptedPut } from '../helpers/interrupted-puts'
import { waitFor } from '../helpers/wait'

const fs = fsModule.plugin as StorePlugin
const dirs: string[] = []
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-wrap-'))
  dirs.push(dir)
  return join(dir, 'store')
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** Retries without waiting; the waits asked for are recorded. */
function instant(): WrapOptions & { waits: number[] } {
  const waits: number[] = []
  return {
    waits,
    random: () => 0.5, // no jitter: 0.5 + 0.5 = the plain backoff
    sleep: async (ms, signal) => {
      if (signal.aborted) throw new PluginAbortedError()
      waits.push(ms)
    },
  }
}

type Op = 'put' | 'get' | 'head' | 'delete' | 'list'

/** fs, but the next calls of `op` fail with these errors first; `calls` counts what reached it. */
function failing(op: Op, errors: Error[], plugin: StorePlugin = fs) {
  const calls: Record<Op, number> = { put: 0, get: 0, head: 0, delete: 0, list: 0 }
  const next = (which: Op) => {
    calls[which]++
    if (which === op && errors.length > 0) throw errors.shift()
  }
  const store: StorePlugin = {
    capabilities: plugin.capabilities,
    async put(ep, key, data, ctx) {
      next('put')
      return plugin.put(ep, key, data, ctx)
    },
    async get(ep, key, ctx, opts) {
      next('get')
      return plugin.get(ep, key, ctx, opts)
    },
    async head(ep, key, ctx) {
      next('head')
      return plugin.head(ep, key, ctx)
    },
    async delete(ep, key, ctx) {
      next('delete')
      return plugin.delete(ep, key, ctx)
    },
    async *list(ep, prefix, ctx) {
      next('list')
      yield* plugin.list(ep, prefix, ctx)
    },
    test: (ep, ctx) => plugin.test(ep, ctx),
    cleanup: (ep, age, ctx) => plugin.cleanup!(ep, age, ctx),
  }
  return { store, calls }
}

const transient = (m = 'connection reset') => new PluginError(m, 'transient')
const text = (s: string) => Readable.from([Buffer.from(s)])

storeConformance('fs, wrapped', async () => ({ path: await freshDir() }), {
  plugin: wrapStore(fs),
  interruptedPut: fsInterruptedPut,
})

// Reads stay whole here (midStream off): a failure mid-stream is not the
// wrapper's to retry, and the suite reads everything it writes.
const faulty = faultyStore(fs, { every: 3, seed: 7, midStream: false })
storeConformance('fs, faulty one call in 3, wrapped', async () => ({ path: await freshDir() }), {
  plugin: wrapStore(faulty, { baseDelayMs: 1 }),
  interruptedPut: fsInterruptedPut,
})

describe('store wrappers: retry', () => {
  it('retries transient failures with doubling waits, and logs each retry', async () => {
    const ep = { path: await freshDir() }
    await fs.put(ep, 'k', text('value'), testContext())
    const { store, calls } = failing('head', [transient(), transient('throttled'), transient()])
    const opts = instant()
    const c = testContext()
    expect(await wrapStore(store, opts).head(ep, 'k', c)).toEqual({ key: 'k', size: 5 })
    expect(calls.head).toBe(4)
    expect(opts.waits).toEqual([500, 1000, 2000])
    expect(c.lines).toEqual([
      'store: head k failed (connection reset); retrying in 0.5 s (attempt 2 of 5)',
      'store: head k failed (throttled); retrying in 1.0 s (attempt 3 of 5)',
      'store: head k failed (connection reset); retrying in 2.0 s (attempt 4 of 5)',
    ])
  })

  it('gives up after the last attempt with the last error; waits are capped and jittered', async () => {
    const ep = { path: await freshDir() }
    const errors = Array.from({ length: 6 }, (_, i) => transient(`try ${i + 1}`))
    const { store, calls } = failing('delete', errors)
    const waits: number[] = []
    const wrapped = wrapStore(store, {
      maxDelayMs: 1500,
      random: () => 0.99,
      sleep: async (ms) => void waits.push(ms),
    })
    const err = await rejection(wrapped.delete(ep, 'k', testContext()))
    expect(err.message).toBe('try 5')
    expect(calls.delete).toBe(5)
    expect(waits.map(Math.round)).toEqual([745, 1490, 2235, 2235]) // (0.5 + 0.99) × 500, 1000, 1500, 1500
  })

  it('retries errors a plugin did not classify that are the network failing', async () => {
    const ep = { path: await freshDir() }
    await fs.put(ep, 'k', text('x'), testContext())
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const hangUp = new Error('socket hang up')
    const { store, calls } = failing('get', [reset, hangUp])
    const stream = await wrapStore(store, instant()).get(ep, 'k', testContext())
    expect((await readAll(stream)).toString()).toBe('x')
    expect(calls.get).toBe(3)
  })

  it('does not retry permanent errors, not-found, or errors of unknown cause', async () => {
    const ep = { path: await freshDir() }
    for (const error of [
      new PluginError('bucket missing'),
      new PluginNotFoundError('no object k'),
      new Error('something else'),
    ]) {
      const { store, calls } = failing('head', [error])
      const opts = instant()
      expect(await rejection(wrapStore(store, opts).head(ep, 'k', testContext()))).toBe(error)
      expect(calls.head).toBe(1)
      expect(opts.waits).toEqual([])
    }
    // A real missing key through the real plugin: one call, PluginNotFoundError.
    const { store, calls } = failing('get', [])
    const err = await rejection(wrapStore(store, instant()).get(ep, 'missing', testContext()))
    expect(err).toBeInstanceOf(PluginNotFoundError)
    expect(calls.get).toBe(1)
  })

  it('retries a put only when its body can be sent again', async () => {
    const ep = { path: await freshDir() }
    const plain = failing('put', [transient()])
    const err = await rejection(
      wrapStore(plain.store, instant()).put(ep, 'a', text('x'), testContext()),
    )
    expect(err.message).toBe('connection reset')
    expect(plain.calls.put).toBe(1)
    expect(await fs.head(ep, 'a', testContext())).toBeNull()

    const rewindable = failing('put', [transient(), transient()])
    const body = retryableBody([Buffer.from('hello '), Buffer.from('again')])
    const stored = await wrapStore(rewindable.store, instant()).put(ep, 'b', body, testContext())
    expect(stored).toEqual({ key: 'b', size: 11 })
    expect(rewindable.calls.put).toBe(3)
    expect((await readAll(await fs.get(ep, 'b', testContext()))).toString()).toBe('hello again')
  })

  it('retries a list that fails before its first object, never one that failed midway', async () => {
    const ep = { path: await freshDir() }
    for (const key of ['p/1', 'p/2']) await fs.put(ep, key, text(key), testContext())
    const { store, calls } = failing('list', [transient()])
    const seen: string[] = []
    for await (const o of wrapStore(store, instant()).list(ep, 'p/', testContext()))
      seen.push(o.key)
    expect(seen.sort()).toEqual(['p/1', 'p/2'])
    expect(calls.list).toBe(2)

    let yielded = 0
    const midway: StorePlugin = {
      ...fs,
      async *list() {
        yield { key: 'p/1', size: 3 }
        yielded++
        throw transient('listing broke')
      },
    }
    const err = await rejection(
      (async () => {
        for await (const _o of wrapStore(midway, instant()).list(ep, 'p/', testContext())) {
          // consume
        }
      })(),
    )
    expect(err.message).toBe('listing broke')
    expect(yielded).toBe(1)
  })

  it('an abort stops retrying at once, mid-wait', async () => {
    const ep = { path: await freshDir() }
    const { store, calls } = failing('head', [transient(), transient()])
    const c = testContext()
    const wrapped = wrapStore(store, { baseDelayMs: 60_000 })
    const pending = wrapped.head(ep, 'k', c)
    while (c.lines.length === 0) await new Promise((r) => setImmediate(r))
    const abortedAt = Date.now()
    c.controller.abort()
    expect(await rejection(pending)).toBeInstanceOf(PluginAbortedError)
    expect(Date.now() - abortedAt).toBeLessThan(1000)
    expect(calls.head).toBe(1)

    // Already aborted when the call fails: no retry either.
    const again = failing('head', [transient()])
    const c2 = testContext()
    const failsAfterAbort: StorePlugin = {
      ...again.store,
      head: async (e, k, ctx) => {
        c2.controller.abort()
        return again.store.head(e, k, ctx)
      },
    }
    expect(await rejection(wrapStore(failsAfterAbort, instant()).head(ep, 'k', c2))).toBeInstanceOf(
      PluginAbortedError,
    )
    expect(again.calls.head).toBe(1)
  })
})

describe('store wrappers: limit', () => {
  /** fs declaring `connections`, with head held until released, counting calls in flight. */
  function gated(connections: number) {
    let inFlight = 0
    let most = 0
    const held: (() => void)[] = []
    const store: StorePlugin = {
      ...fs,
      capabilities: { vault: true, atomicPut: true, rangedGet: true, connections },
      async head(ep, key, ctx) {
        most = Math.max(most, ++inFlight)
        await new Promise<void>((r) => held.push(r))
        try {
          return await fs.head(ep, key, ctx)
        } finally {
          inFlight-- // only now: releaseAll must not stop while a call still runs
        }
      },
    }
    const releaseAll = async () => {
      while (held.length > 0 || inFlight > 0) {
        held.splice(0).forEach((r) => r())
        await new Promise((r) => setImmediate(r))
      }
    }
    return { store, held, most: () => most, releaseAll }
  }

  // Calls reach the gated store through a few awaits: wait until `n` are held.
  const holding = (g: { held: unknown[] }, n: number) =>
    waitFor(`${n} call(s) held`, () => (g.held.length >= n ? true : undefined))
  // Only for checks that nothing more happens: a quiet moment is the only way to see it.
  const settle = () => new Promise((r) => setTimeout(r, 20))

  it('never runs more than capabilities.connections calls at once per endpoint', async () => {
    const ep = { path: await freshDir() }
    const g = gated(3)
    const wrapped = wrapStore(g.store)
    const calls = Array.from({ length: 10 }, () => wrapped.head(ep, 'k', testContext()))
    await holding(g, 3)
    await settle()
    expect(g.held.length).toBe(3)
    // Another endpoint has its own slots.
    const other = wrapped.head({ path: await freshDir() }, 'k', testContext())
    await holding(g, 4)
    expect(g.held.length).toBe(4)
    await g.releaseAll()
    expect(await Promise.all([...calls, other])).toEqual(Array(11).fill(null))
    expect(g.most()).toBe(4)
  })

  it('a call waiting for a slot gives up when its signal aborts, and takes none', async () => {
    const ep = { path: await freshDir() }
    const g = gated(1)
    const wrapped = wrapStore(g.store)
    const first = wrapped.head(ep, 'k', testContext())
    const c = testContext()
    const waiting = wrapped.head(ep, 'k', c)
    await holding(g, 1)
    c.controller.abort()
    expect(await rejection(waiting)).toBeInstanceOf(PluginAbortedError)
    const third = wrapped.head(ep, 'k', testContext())
    await g.releaseAll()
    expect(await first).toBeNull()
    expect(await third).toBeNull()
    expect(g.most()).toBe(1)
  })

  it('a get holds its slot until its stream is read or destroyed', async () => {
    const ep = { path: await freshDir() }
    await fs.put(ep, 'k', text('data'), testContext())
    const g = gated(1)
    const wrapped = wrapStore(g.store)
    const stream = await wrapped.get(ep, 'k', testContext())
    const head = wrapped.head(ep, 'k', testContext())
    await settle()
    expect(g.held.length).toBe(0) // waiting for the get's slot
    expect((await readAll(stream)).toString()).toBe('data')
    await holding(g, 1)
    expect(g.held.length).toBe(1)
    await g.releaseAll()
    expect(await head).toEqual({ key: 'k', size: 4 })
    const destroyed = await wrapped.get(ep, 'k', testContext())
    destroyed.destroy()
    const after = wrapped.head(ep, 'k', testContext())
    await holding(g, 1)
    await g.releaseAll()
    expect(await after).toEqual({ key: 'k', size: 4 })
  })
})

describe('store wrappers: composition', () => {
  it('passes capabilities and cleanup through, and wraps only once', () => {
    const wrapped = wrapStore(fs)
    expect(wrapped.capabilities).toBe(fs.capabilities)
    expect(typeof wrapped.cleanup).toBe('function')
    expect(wrapStore(wrapped)).toBe(wrapped)
    const { cleanup: _drop, ...noCleanup } = fs
    expect(wrapStore(noCleanup).cleanup).toBeUndefined()
  })

  it('the faulty store injected faults into the conformance run above', () => {
    const total = Object.values(faulty.injected).reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThan(10)
    expect(faulty.injected.put).toBeGreaterThan(0)
  })

  it('a faulty get that fails mid-stream is the caller’s to retry, and the next get is whole', async () => {
    const ep = { path: await freshDir() }
    await fs.put(ep, 'k', Readable.from([Buffer.alloc(100_000, 5)]), testContext())
    const store = wrapStore(faultyStore(fs, { every: 2, seed: 3 }), instant())
    let failed = 0
    for (let i = 0; i < 20; i++) {
      try {
        expect((await readAll(await store.get(ep, 'k', testContext()))).length).toBe(100_000)
      } catch (err) {
        expect(err).toBeInstanceOf(PluginError)
        expect((err as PluginError).kind).toBe('transient')
        failed++
      }
    }
    expect(failed).toBeGreaterThan(0)
  })
})
