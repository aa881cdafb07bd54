-- The SHIELD catalog: what to back up (targets), where to (stores), when
-- (schedules), for how long (retention), the jobs that tie them together,
-- the archives they made and the tasks that did the work. Times are ms UTC.

CREATE TABLE targets (
  uuid       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  summary    TEXT NOT NULL DEFAULT '',
  plugin     TEXT NOT NULL,
  endpoint   TEXT NOT NULL,            -- JSON, secret fields held in the secret store
  agent      TEXT NOT NULL DEFAULT '', -- '' = the daemon runs the plugin itself
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE stores (
  uuid       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  summary    TEXT NOT NULL DEFAULT '',
  plugin     TEXT NOT NULL,
  endpoint   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE schedules (
  uuid       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  summary    TEXT NOT NULL DEFAULT '',
  timespec   TEXT NOT NULL,
  timezone   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE retention (
  uuid       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  summary    TEXT NOT NULL DEFAULT '',
  expiry     INTEGER NOT NULL CHECK (expiry >= 3600),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE jobs (
  uuid           TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  summary        TEXT NOT NULL DEFAULT '',
  target_uuid    TEXT NOT NULL REFERENCES targets (uuid),
  store_uuid     TEXT NOT NULL REFERENCES stores (uuid),
  schedule_uuid  TEXT NOT NULL REFERENCES schedules (uuid),
  retention_uuid TEXT NOT NULL REFERENCES retention (uuid),
  priority       INTEGER NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  paused         INTEGER NOT NULL DEFAULT 0,
  last_fired_at  INTEGER,               -- the scheduled time the scheduler last enqueued
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX jobs_target ON jobs (target_uuid);
CREATE INDEX jobs_store ON jobs (store_uuid);
CREATE INDEX jobs_schedule ON jobs (schedule_uuid);
CREATE INDEX jobs_retention ON jobs (retention_uuid);

-- Archives outlive the jobs, targets and stores that made them, so no foreign keys.
CREATE TABLE archives (
  uuid        TEXT PRIMARY KEY,
  job_uuid    TEXT,
  target_uuid TEXT NOT NULL,
  store_uuid  TEXT NOT NULL,
  store_key   TEXT NOT NULL,
  taken_at    INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  notes       TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL DEFAULT 'valid'
              CHECK (status IN ('valid', 'invalid', 'expired', 'purged')),
  target_plugin TEXT NOT NULL DEFAULT '', -- what made it, so restores can check the plugin
  size        INTEGER,
  purged_at   INTEGER
);
CREATE INDEX archives_target ON archives (target_uuid, taken_at);
CREATE INDEX archives_store ON archives (store_uuid, taken_at);
CREATE INDEX archives_expiry ON archives (status, expires_at);

CREATE TABLE tasks (
  uuid         TEXT PRIMARY KEY,
  owner        TEXT NOT NULL,
  op           TEXT NOT NULL CHECK (op IN ('backup', 'restore', 'purge')),
  job_uuid     TEXT,
  archive_uuid TEXT,
  target_uuid  TEXT,
  store_uuid   TEXT,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'canceled', 'failed', 'done')),
  priority     INTEGER NOT NULL DEFAULT 50,
  requested_at INTEGER NOT NULL,
  started_at   INTEGER,
  stopped_at   INTEGER,
  bytes        INTEGER NOT NULL DEFAULT 0,
  progress     REAL,
  error        TEXT
);
CREATE INDEX tasks_status ON tasks (status, priority, requested_at);
CREATE INDEX tasks_job ON tasks (job_uuid, requested_at);

CREATE TABLE task_logs (
  task_uuid TEXT NOT NULL REFERENCES tasks (uuid) ON DELETE CASCADE,
  seq       INTEGER NOT NULL,
  at        INTEGER NOT NULL,
  line      TEXT NOT NULL,
  PRIMARY KEY (task_uuid, seq)
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
