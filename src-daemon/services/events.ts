// The daemon's in-process event bus; the API relays it as server-sent events.
import { EventEmitter } from 'node:events'
import type { DaemonEvent } from '../contract'

export class EventBus {
  private readonly emitter = new EventEmitter()

  constructor() {
    this.emitter.setMaxListeners(0)
  }

  emit(event: DaemonEvent): void {
    this.emitter.emit('event', event)
  }

  subscribe(fn: (event: DaemonEvent) => void): () => void {
    this.emitter.on('event', fn)
    return () => this.emitter.off('event', fn)
  }
}
