// Events on the daemon's server-sent event stream (GET /v1/events).
//
// Every event the daemon's bus emits gets an id, one counter for the whole
// daemon, sent as the stream's `id:` field (not in the JSON). A client that
// reconnects with the Last-Event-ID header gets the events it missed first;
// if the daemon no longer holds them (the id is older than its ring of recent
// events, or from before a restart) it gets a `reset` instead and re-reads
// what it shows. Heartbeats and `reset` carry no id.
import type { HealthSignal } from './health'
import type { TaskStatus } from './queries'

export type ResourceKind =
  'target' | 'store' | 'schedule' | 'retention' | 'job' | 'archive' | 'task' | 'channel'

export type DaemonEvent =
  | {
      type: 'resource'
      kind: ResourceKind
      uuid: string
      action: 'created' | 'updated' | 'deleted'
    }
  | { type: 'task'; uuid: string; status: TaskStatus; progress: number | null; bytes: number }
  /**
   * One line of a task's log. `seq` numbers the task's lines from 1, in the
   * order they are stored: the task's `log_lines` is the seq of its last line.
   */
  | { type: 'task-log'; uuid: string; seq: number; line: string; at: string }
  | { type: 'heartbeat'; at: string }
  /** A health signal raised (first seen) or cleared (no longer true). */
  | { type: 'health'; state: 'raised' | 'cleared'; signal: HealthSignal }
  | ResetEvent

/**
 * Sent on the stream only (the bus never emits it), right after a reconnect
 * whose Last-Event-ID the daemon can no longer resume from: events were
 * missed, re-read the state.
 */
export interface ResetEvent {
  type: 'reset'
  at: string
  reason: string
}

/** How many recent events the daemon keeps for clients that reconnect. */
export const EVENT_RING_SIZE = 10_000
