// The daemon's event bus numbers its events and keeps a bounded ring of the
// recent ones for stream clients that reconnect (GET /v1/events with
// Last-Event-ID): what it still holds is replayed exactly, anything older (or
// an id it never gave out) is refused, which the route turns into `reset`.
import { describe, expect, it } from 'vitest'
import type { DaemonEvent } from '../../src-daemon/contract'
import { EventBus } from '../../src-daemon/services/events'

const log = (n: number): DaemonEvent => ({
  type: 'task-log',
  uuid: 't',
  seq: n,
  line: `line ${n}`,
  at: '2030-01-01T00:00:00.000Z',
})

describe('EventBus', () => {
  it('numbers events from firstId and tells subscribers the id', () => {
    const bus = new EventBus({ firstId: 100, capacity: 4 })
    expect(bus.lastId).toBe(99)
    const seen: number[] = []
    const off = bus.subscribe((_e, id) => seen.push(id))
    expect(bus.emit(log(1))).toBe(100)
    expect(bus.emit(log(2))).toBe(101)
    off()
    bus.emit(log(3))
    expect(seen).toEqual([100, 101])
    expect(bus.lastId).toBe(102)
  })

  it('replays what the ring holds after an id, and refuses an id it no longer holds', () => {
    const bus = new EventBus({ firstId: 1, capacity: 3 })
    expect(bus.since(0)).toEqual([])
    for (let n = 1; n <= 5; n++) bus.emit(log(n))
    // Ring: ids 3, 4, 5.
    expect(bus.since(5)).toEqual([])
    expect(bus.since(2)?.map((m) => m.id)).toEqual([3, 4, 5])
    expect(bus.since(3)?.map((m) => (m.event as { seq: number }).seq)).toEqual([4, 5])
    expect(bus.since(1)).toBeUndefined()
    // Not one of this bus's ids: from before a restart, or from the future.
    expect(bus.since(6)).toBeUndefined()
    expect(bus.since(-1)).toBeUndefined()
  })

  it('starts its ids past any earlier run’s by default', () => {
    const before = Date.now() * 1000
    const bus = new EventBus()
    expect(bus.emit(log(1))).toBeGreaterThanOrEqual(before)
    // An id an earlier run gave out a millisecond before.
    expect(bus.since(before - 1000)).toBeUndefined()
  })
})
