import { describe, expect, it } from 'vitest'
import { mapLimit } from '../../src-daemon/platform/concurrency'

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms))

/** Counts the calls running at once. */
function gauge() {
  let now = 0
  let max = 0
  return {
    get max() {
      return max
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      now++
      max = Math.max(max, now)
      try {
        return await fn()
      } finally {
        now--
      }
    },
  }
}

describe('mapLimit', () => {
  it('runs at most limit calls at once and keeps the items order in its results', async () => {
    const g = gauge()
    const items = Array.from({ length: 40 }, (_, i) => i)
    const out = await mapLimit(items, 4, (n) =>
      g.run(() => tick(((n * 7) % 5) + 1).then(() => n * 2)),
    )
    expect(out).toEqual(items.map((n) => n * 2))
    expect(g.max).toBe(4)
  })

  it('takes items from an async iterable only as slots free up', async () => {
    let produced = 0
    let done = 0
    async function* source() {
      for (let i = 0; i < 20; i++) {
        produced++
        expect(produced - done).toBeLessThanOrEqual(3) // the limit, plus the item being taken
        yield i
      }
    }
    const out = await mapLimit(source(), 2, async (n, i) => {
      await tick()
      done++
      return [n, i]
    })
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => [i, i]))
  })

  it('resolves to [] for no items, and treats a limit below 1 as 1', async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([])
    const g = gauge()
    await mapLimit([1, 2, 3], 0, () => g.run(() => tick()))
    expect(g.max).toBe(1)
  })

  it('stops at the first failure: nothing more starts, the running settle, the first error is thrown', async () => {
    const started: number[] = []
    const settled: number[] = []
    const err = await mapLimit(
      Array.from({ length: 50 }, (_, i) => i),
      3,
      async (n) => {
        started.push(n)
        if (n === 4) throw new Error('four')
        await tick(n === 1 ? 20 : 2)
        settled.push(n)
        if (n === 1) throw new Error('one, later')
      },
    ).catch((e: unknown) => e)
    expect((err as Error).message).toBe('four')
    expect(started).not.toContain(4 + 3) // at most the two still running and the one failing
    expect(settled).toContain(1) // it was running: it settled before mapLimit rejected
  })

  it('aborts the running calls signal on a failure, and fails on a synchronous throw too', async () => {
    let seen: AbortSignal | undefined
    const err = await mapLimit([1, 2], 2, (n, _i, signal) => {
      if (n === 1) {
        seen = signal
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('stopped'))),
        )
      }
      throw new Error('sync')
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('sync')
    expect(seen?.aborted).toBe(true)
  })

  it('fails with the iterable own error and stops taking items', async () => {
    let calls = 0
    async function* source() {
      yield 1
      yield 2
      throw new Error('listing broke')
    }
    const err = await mapLimit(source(), 2, async () => {
      calls++
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('listing broke')
    expect(calls).toBe(2)
  })

  it('stops when its signal aborts, even with the producer blocked, and closes the iterable', async () => {
    const ac = new AbortController()
    let closed = false
    let calls = 0
    async function* source() {
      try {
        yield 1
        await new Promise(() => undefined) // a source that never becomes readable
      } finally {
        closed = true
      }
    }
    const it = source()
    const running = mapLimit(
      it,
      2,
      async (_n, _i, signal) => {
        calls++
        await new Promise((r) => signal.addEventListener('abort', r))
      },
      ac.signal,
    )
    await tick(5)
    ac.abort(new Error('canceled'))
    await expect(running).rejects.toThrow('canceled')
    expect(calls).toBe(1)
    void closed // return() waits for the pending next(), which never comes: nothing more to see
  })

  it('does not start when its signal is already aborted', async () => {
    const ac = new AbortController()
    ac.abort(new Error('before'))
    let calls = 0
    await expect(mapLimit([1, 2, 3], 2, async () => void calls++, ac.signal)).rejects.toThrow(
      'before',
    )
    expect(calls).toBe(0)
  })
})
