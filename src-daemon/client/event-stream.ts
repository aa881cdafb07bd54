// The daemon's event stream (GET /v1/events) as an async generator that
// survives dropped connections: it reconnects with bounded backoff, sending
// the id of the last event it saw as Last-Event-ID, so the daemon replays what
// was missed (or sends a `reset` event when it no longer can).
import type { DaemonEvent } from '../contract'
import { ApiError } from './errors'
import { readSse } from './sse'

export interface SubscribeOptions {
  /** Resume after this event id: the daemon first sends what came after it, or a `reset`. */
  lastEventId?: number
  /**
   * Failed reconnections in a row before the stream gives up and throws the
   * last error (default 6, about 13 s of backoff); 0 never reconnects.
   */
  retries?: number
  /** Told when the connection dropped and is being retried, and when it is back. */
  onConnection?: (state: 'retrying' | 'live') => void
}

/**
 * The events. `lastEventId` is where the stream stands: while a bus event is
 * being handled, its id (heartbeats and `reset` have none and leave it as is).
 */
export interface EventStream extends AsyncGenerator<DaemonEvent> {
  readonly lastEventId: number | undefined
}

/** Opens the stream once: resolves to the daemon's answer, or throws as a request does. */
export type Connect = (lastEventId: number | undefined, signal?: AbortSignal) => Promise<Response>

const DEFAULT_RETRIES = 6
const FIRST_DELAY_MS = 250
const MAX_DELAY_MS = 5000

/** Connects (throwing if the daemon does not answer), then reads and reconnects as needed. */
export async function openEventStream(
  connect: Connect,
  signal?: AbortSignal,
  options: SubscribeOptions = {},
): Promise<EventStream> {
  const position = { last: options.lastEventId }
  const retries = options.retries ?? DEFAULT_RETRIES
  const first = await connect(position.last, signal)

  async function* run(): AsyncGenerator<DaemonEvent> {
    let res: Response | undefined = first
    let failures = 0
    let lastError: unknown
    for (;;) {
      if (res) {
        try {
          yield* parseEvents(res.body, signal, position)
        } catch (err) {
          if (signal?.aborted) return
          lastError = err
        }
        // Without an id to resume from, a reconnect could not tell what was missed.
        if (signal?.aborted || retries === 0 || position.last === undefined) return
        options.onConnection?.('retrying')
        res = undefined
      }
      if (failures >= retries) throw lastError ?? new Error('the event stream ended')
      await pause(Math.min(FIRST_DELAY_MS * 2 ** failures, MAX_DELAY_MS), signal)
      if (signal?.aborted) return
      try {
        res = await connect(position.last, signal)
        failures = 0
        options.onConnection?.('live')
      } catch (err) {
        if (signal?.aborted) return
        // The daemon answered and refused (a revoked token, say): retrying will not help.
        if (err instanceof ApiError && err.status < 500) throw err
        lastError = err
        failures++
      }
    }
  }

  const stream = run()
  Object.defineProperty(stream, 'lastEventId', { get: () => position.last })
  return stream as EventStream
}

async function* parseEvents(
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal | undefined,
  position: { last: number | undefined },
): AsyncGenerator<DaemonEvent> {
  if (!body) return
  for await (const message of readSse(body, signal)) {
    const id = message.id === undefined ? undefined : Number(message.id)
    if (id !== undefined && Number.isSafeInteger(id)) position.last = id
    if (message.data === undefined) continue
    let event: DaemonEvent
    try {
      event = JSON.parse(message.data) as DaemonEvent
    } catch {
      continue // a malformed event is dropped, not fatal for the stream
    }
    yield event
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
