-- Notification channels (issue 13): where the daemon tells people what went
-- wrong. Secret settings are not here but in the secret store, under
-- "channel/<uuid>/<field>", as endpoint secrets are.
CREATE TABLE channels (
  uuid           TEXT PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL,
  settings       TEXT NOT NULL DEFAULT '{}', -- JSON object, the non-secret settings
  events         TEXT NOT NULL,              -- JSON array of NotifyEvent
  jobs           TEXT,                       -- JSON array of job uuids; NULL: every job
  reminder_hours INTEGER NOT NULL DEFAULT 24 CHECK (reminder_hours >= 0),
  enabled        INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

-- What was sent through a channel and how it went: one row per notice (its
-- retries update the row), the newest ~50 kept per channel.
CREATE TABLE channel_deliveries (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  channel_uuid TEXT NOT NULL REFERENCES channels (uuid) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  event        TEXT NOT NULL,
  ok           INTEGER NOT NULL,
  attempts     INTEGER NOT NULL,
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX channel_deliveries_channel ON channel_deliveries (channel_uuid, id);

-- What a channel was last told about one subject ("job:<uuid>" for backup
-- outcomes, "health:<signal id>", "archive:<uuid>" for damage), so a job that
-- keeps failing is announced once (and again after reminder_hours), its
-- recovery once, and a health signal once while it stays raised, across
-- daemon restarts. No foreign key to the subject: a row of a deleted job is
-- simply never read again.
CREATE TABLE channel_notify_state (
  channel_uuid     TEXT NOT NULL REFERENCES channels (uuid) ON DELETE CASCADE,
  subject          TEXT NOT NULL,
  failing          INTEGER NOT NULL,          -- 1: the last outcome was a failure (or raised)
  since            INTEGER NOT NULL,          -- when it started failing (or succeeding)
  last_notified_at INTEGER,                   -- when the channel was last told; NULL: never
  PRIMARY KEY (channel_uuid, subject)
);
