// Getting a notice to a channel: one attempt (bounded by a timeout, never
// throwing), and the courier that retries with backoff, records each
// delivery in the catalog and logs its outcome in one line. Deliveries run
// beside the tasks that caused them: nothing here blocks or fails a task,
// and everything stops when the daemon closes.
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChannelKind, Notice } from '../contract/notifications'
import type { ChannelRow, ChannelsRepo } from '../catalog/channels-repo'
import type { Clock } from '../platform/clock'
import { toIso } from '../platform/clock'
import type { Logger } from '../platform/logger'
import { redactor } from '../platform/redact'
import { SendError, sendNotice } from './senders'

/** Waits before the retries after a first failed attempt (BULWARK_NOTIFY_RETRY_MS). */
export const DEFAULT_RETRY_MS = [2_000, 10_000, 60_000]
/** How long one attempt may take. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 15_000

export interface AttemptOutcome {
  ok: boolean
  detail: string
  /** Worth another try (network, timeout, 429, 5xx). */
  retryable: boolean
  /** The kind does not send this event (a healthchecks channel and a restore). */
  skipped: boolean
}

/** One attempt; the receiver's words or the error, scrubbed of every known secret. */
export async function attemptDelivery(
  kind: ChannelKind,
  settings: Record<string, unknown>,
  notice: Notice,
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<AttemptOutcome> {
  try {
    const res = await sendNotice(kind, settings, notice, opts)
    return {
      ok: true,
      detail: redactor.redact(res.detail),
      retryable: false,
      skipped: res.skipped === true,
    }
  } catch (err) {
    const retryable = err instanceof SendError ? err.retryable : false
    const message = err instanceof Error ? err.message : String(err)
    return { ok: false, detail: redactor.redact(message), retryable, skipped: false }
  }
}

/** The notice a "send a test" button sends. */
export function testNotice(channel: string, base: string | null, now: number): Notice {
  return {
    event: 'test',
    severity: 'info',
    title: `Test notice from Bulwark to channel "${channel}"`,
    body: 'If you can read this, the channel works: Bulwark will use it for the events it is set up for.',
    at: toIso(now),
    url: base ? `${base}/#/` : null,
    fields: { channel },
  }
}

/** "100,200,400" → [100, 200, 400]; anything unreadable gives the defaults. */
export function retryDelaysFrom(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return DEFAULT_RETRY_MS
  const delays = text.split(',').map((s) => Number(s.trim()))
  return delays.every((n) => Number.isInteger(n) && n >= 0) ? delays : DEFAULT_RETRY_MS
}

export interface CourierDeps {
  repo: ChannelsRepo
  settingsFor(row: ChannelRow): Record<string, unknown>
  clock: Clock
  log: Logger
  /** A delivery changed (the channel's last_delivery): the API's event stream says so. */
  changed(channelUuid: string): void
  retryMs?: number[]
  timeoutMs?: number
}

export class Courier {
  private readonly closing = new AbortController()
  private readonly inflight = new Set<Promise<void>>()
  private readonly retryMs: number[]
  private readonly timeoutMs: number

  constructor(private readonly deps: CourierDeps) {
    this.retryMs = deps.retryMs ?? DEFAULT_RETRY_MS
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS
  }

  /** Starts a delivery and returns at once; it never throws. */
  send(channel: ChannelRow, notice: Notice): void {
    if (this.closing.signal.aborted) return
    const run = this.deliver(channel, notice).catch((err: unknown) => {
      this.deps.log.error(
        `notify: delivery to channel "${channel.name}" broke: ${redactor.redact(String((err as Error)?.stack ?? err))}`,
      )
    })
    this.inflight.add(run)
    void run.finally(() => this.inflight.delete(run))
  }

  /** Deliveries still running (tests and close wait on them). */
  pending(): number {
    return this.inflight.size
  }

  /** Stops retrying, aborts attempts under way, and waits for them to settle. */
  async stop(): Promise<void> {
    this.closing.abort()
    await Promise.allSettled([...this.inflight])
  }

  private async deliver(channel: ChannelRow, notice: Notice): Promise<void> {
    const { repo, clock, log } = this.deps
    const signal = this.closing.signal
    const settings = this.deps.settingsFor(channel)
    const at = clock.now()
    const who = `channel "${channel.name}" (${channel.kind}) ${notice.event}`
    let id: number | undefined
    let outcome: AttemptOutcome | undefined
    let attempts = 0
    for (;;) {
      attempts += 1
      outcome = await attemptDelivery(channel.kind as ChannelKind, settings, notice, {
        signal,
        timeoutMs: this.timeoutMs,
      })
      if (signal.aborted) break
      const record = { ok: outcome.ok ? 1 : 0, attempts, detail: outcome.detail }
      // The channel may have been deleted while the receiver answered: nothing to record.
      if (id === undefined) {
        if (!repo.get(channel.uuid)) return
        id = repo.addDelivery({ channel_uuid: channel.uuid, at, event: notice.event, ...record })
      } else if (!repo.updateDelivery(id, record)) return
      this.deps.changed(channel.uuid)
      const wait = this.retryMs[attempts - 1]
      if (outcome.ok || !outcome.retryable || wait === undefined) break
      log.debug(
        `notify: ${who} attempt ${attempts} failed, retrying in ${wait} ms: ${outcome.detail}`,
      )
      try {
        await sleep(wait, undefined, { signal })
      } catch {
        break
      }
    }
    // A kind that does not send this event: recorded as such, so the channel shows why.
    if (outcome.skipped) {
      log.info(`notify: ${who} not sent: ${outcome.detail}`)
    } else if (signal.aborted && !outcome.ok) {
      log.warn(`notify: ${who} abandoned after ${attempts} attempt(s): the daemon is stopping`)
    } else if (outcome.ok) {
      log.info(`notify: ${who} delivered after ${attempts} attempt(s): ${outcome.detail}`)
    } else {
      log.warn(`notify: ${who} failed after ${attempts} attempt(s): ${outcome.detail}`)
    }
  }
}
