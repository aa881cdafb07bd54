// The daemon's in-process event bus; the API relays it as server-sent events.
// Each event gets the next id of one daemon-wide counter, and the last
// EVENT_RING_SIZE events are kept so that a stream client that reconnects can
// be sent what it missed (GET /v1/events with Last-Event-ID).
import { EventEmitter } from 'node:events'
import { EVENT_RING_SIZE, type DaemonEvent } from '../contract'

export interface NumberedEvent {
  id: number
  event: DaemonEvent
}

export interface EventBusOptions {
  /** How many recent events to keep (default EVENT_RING_SIZE). */
  capacity?: number
  /**
   * The first event's id. The default, the start time in ms × 1000, keeps ids
   * growing across restarts, so an id from an earlier run is never taken for
   * one of this run's: it is older than the ring.
   */
  firstId?: number
}

export class EventBus {
  private readonly emitter = new EventEmitter()
  private readonly capacity: number
  /** A circular buffer: the event with id `n` sits at `(n - firstId) % capacity`. */
  private readonly ring: NumberedEvent[] = []
  private readonly firstId: number
  private nextId: number

  constructor(options: EventBusOptions = {}) {
    this.emitter.setMaxListeners(0)
    this.capacity = Math.max(1, options.capacity ?? EVENT_RING_SIZE)
    this.firstId = options.firstId ?? Date.now() * 1000
    this.nextId = this.firstId
  }

  /** Emits the event to every subscriber; returns its id. */
  emit(event: DaemonEvent): number {
    const id = this.nextId++
    this.ring[(id - this.firstId) % this.capacity] = { id, event }
    this.emitter.emit('event', event, id)
    return id
  }

  subscribe(fn: (event: DaemonEvent, id: number) => void): () => void {
    this.emitter.on('event', fn)
    return () => this.emitter.off('event', fn)
  }

  /** The id of the newest event; one less than the first id while there is none. */
  get lastId(): number {
    return this.nextId - 1
  }

  /**
   * The events after `id`, oldest first; undefined when the ring no longer
   * holds all of them (or `id` is not one this bus gave out).
   */
  since(id: number): NumberedEvent[] | undefined {
    const oldest = Math.max(this.firstId, this.nextId - this.capacity)
    if (!Number.isSafeInteger(id) || id < oldest - 1 || id > this.lastId) return undefined
    const missed: NumberedEvent[] = []
    for (let n = id + 1; n < this.nextId; n++) {
      missed.push(this.ring[(n - this.firstId) % this.capacity]!)
    }
    return missed
  }
}
