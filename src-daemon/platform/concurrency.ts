// Bounded concurrency: the one way the daemon runs many calls at once (chunk
// uploads, chunk checks, manifest reads, listings, deletes) without running
// all of them at once. Items are taken from an array or an (async) iterable
// only as slots free up, so a producer (a source being chunked, a listing) is
// not read ahead of the work: backpressure reaches it.

import { setMaxListeners } from 'node:events'

export type MapLimitItems<T> = Iterable<T> | AsyncIterable<T>

/**
 * Calls fn on each item, at most `limit` calls at a time, and resolves to the
 * results in the items' order. fn receives the item's index and a signal
 * that aborts on the first failure and with `signal`. The first failure (of
 * fn, of the iterable, or `signal`'s abort, whichever comes first) stops it:
 * no further item is taken, the calls running settle, and that failure is
 * thrown. fn is called synchronously as each item is taken, in order.
 */
export async function mapLimit<T, R>(
  items: MapLimitItems<T>,
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const size = Math.max(1, Math.floor(limit))
  const stop = new AbortController()
  setMaxListeners(size + 10, stop.signal) // each running call may listen to it
  let failure: { err: unknown } | undefined
  const fail = (err: unknown) => {
    failure ??= { err }
    stop.abort(err)
  }
  const onAbort = () => fail(signal?.reason)
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })

  const it: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in items
      ? items[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]()
  // A producer blocked on its next item (a source not yet readable) does not
  // hold up a failure. The listener goes once the item comes: nothing
  // accumulates, so no item stays reachable after it is handed on.
  const take = () =>
    new Promise<IteratorResult<T>>((resolve, reject) => {
      const onStop = () => reject(failure?.err)
      stop.signal.addEventListener('abort', onStop, { once: true })
      Promise.resolve(it.next())
        .then(resolve, reject)
        .finally(() => stop.signal.removeEventListener('abort', onStop))
    })
  const results: R[] = []
  const running = new Set<Promise<void>>()
  let index = 0
  try {
    while (!failure) {
      if (running.size >= size) {
        await Promise.race(running)
        continue
      }
      let next: IteratorResult<T>
      try {
        next = await take()
      } catch (err) {
        fail(err)
        break
      }
      if (next.done || failure) break
      const i = index++
      let call: Promise<R>
      try {
        call = fn(next.value, i, stop.signal)
      } catch (err) {
        call = Promise.reject(err)
      }
      const run: Promise<void> = call
        .then((r) => {
          results[i] = r
        }, fail)
        .finally(() => running.delete(run))
      running.add(run)
    }
    await Promise.all(running)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // An iterable left midway is closed (a listing stops, a generator's finally runs);
    // not awaited, as it may wait for the pending next() the failure cut short.
    if (failure) void Promise.resolve(it.return?.()).catch(() => undefined)
  }
  if (failure) throw failure.err
  return results
}
