// Notification channels, what was delivered through them, and what each was
// last told about a job or a health signal (migration 008). Built on the
// catalog's database by the channel service; the catalog itself needs none of it.
import type { Db } from './db'
import { Table } from './table'

export interface ChannelRow {
  uuid: string
  name: string
  kind: string
  /** JSON object: the non-secret settings (secrets live in the secret store). */
  settings: string
  /** JSON array of NotifyEvent. */
  events: string
  /** JSON array of job uuids; null: every job. */
  jobs: string | null
  reminder_hours: number
  enabled: number
  created_at: number
  updated_at: number
}

export interface DeliveryRow {
  id: number
  channel_uuid: string
  at: number
  event: string
  ok: number
  attempts: number
  detail: string
}

export interface NotifyStateRow {
  channel_uuid: string
  subject: string
  failing: number
  since: number
  last_notified_at: number | null
}

/** Deliveries kept per channel: enough to see a pattern, not a log. */
export const DELIVERIES_KEPT = 50

export class ChannelsRepo extends Table<ChannelRow> {
  constructor(private readonly database: Db) {
    super(database, 'channels')
  }

  byName(name: string): ChannelRow | undefined {
    return this.database.prepare('SELECT * FROM channels WHERE name = ?').get(name) as
      ChannelRow | undefined
  }

  /** Starts a delivery's record (its first attempt done); its id, for the retries to update. */
  addDelivery(row: Omit<DeliveryRow, 'id'>): number {
    const res = this.database
      .prepare(
        `INSERT INTO channel_deliveries (channel_uuid, at, event, ok, attempts, detail)
         VALUES (@channel_uuid, @at, @event, @ok, @attempts, @detail)`,
      )
      .run(row)
    this.database
      .prepare(
        `DELETE FROM channel_deliveries WHERE channel_uuid = ? AND id NOT IN (
           SELECT id FROM channel_deliveries WHERE channel_uuid = ? ORDER BY id DESC LIMIT ?)`,
      )
      .run(row.channel_uuid, row.channel_uuid, DELIVERIES_KEPT)
    return Number(res.lastInsertRowid)
  }

  /** A retry's outcome; false when the delivery is gone (its channel deleted meanwhile). */
  updateDelivery(id: number, patch: Pick<DeliveryRow, 'ok' | 'attempts' | 'detail'>): boolean {
    return (
      this.database
        .prepare(
          'UPDATE channel_deliveries SET ok = @ok, attempts = @attempts, detail = @detail WHERE id = @id',
        )
        .run({ ...patch, id }).changes > 0
    )
  }

  /** The newest deliveries of a channel, newest first. */
  deliveries(channelUuid: string, limit = DELIVERIES_KEPT): DeliveryRow[] {
    return this.database
      .prepare('SELECT * FROM channel_deliveries WHERE channel_uuid = ? ORDER BY id DESC LIMIT ?')
      .all(channelUuid, Math.trunc(limit)) as DeliveryRow[]
  }

  lastDelivery(channelUuid: string): DeliveryRow | undefined {
    return this.deliveries(channelUuid, 1)[0]
  }

  state(channelUuid: string, subject: string): NotifyStateRow | undefined {
    return this.database
      .prepare('SELECT * FROM channel_notify_state WHERE channel_uuid = ? AND subject = ?')
      .get(channelUuid, subject) as NotifyStateRow | undefined
  }

  setState(row: NotifyStateRow): void {
    this.database
      .prepare(
        `INSERT INTO channel_notify_state (channel_uuid, subject, failing, since, last_notified_at)
         VALUES (@channel_uuid, @subject, @failing, @since, @last_notified_at)
         ON CONFLICT (channel_uuid, subject) DO UPDATE SET
           failing = excluded.failing, since = excluded.since,
           last_notified_at = excluded.last_notified_at`,
      )
      .run(row)
  }

  /** Forgets what channels were told about a subject (a health signal cleared), or one channel's. */
  clearState(subject: string, channelUuid?: string): void {
    if (channelUuid === undefined) {
      this.database.prepare('DELETE FROM channel_notify_state WHERE subject = ?').run(subject)
    } else {
      this.database
        .prepare('DELETE FROM channel_notify_state WHERE channel_uuid = ? AND subject = ?')
        .run(channelUuid, subject)
    }
  }
}
