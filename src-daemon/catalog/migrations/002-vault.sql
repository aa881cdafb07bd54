-- The vault: which chunks each store holds (a cache of the store, rebuilt from
-- it when missing), how archives are laid out and what they cost in space,
-- and two new task kinds, verify and gc.

CREATE TABLE vault_chunks (
  store_uuid  TEXT NOT NULL,
  id          TEXT NOT NULL,           -- keyed chunk id (hex HMAC-SHA256)
  stored_size INTEGER NOT NULL,        -- bytes in the store (compressed + encrypted)
  created_at  INTEGER NOT NULL,        -- when this daemon first saw it (GC grace counts from here)
  PRIMARY KEY (store_uuid, id)
) WITHOUT ROWID;

ALTER TABLE archives ADD COLUMN format TEXT NOT NULL DEFAULT 'plain'; -- 'plain' blob or 'vault'
ALTER TABLE archives ADD COLUMN new_bytes INTEGER;     -- stored bytes this archive added
ALTER TABLE archives ADD COLUMN stored_bytes INTEGER;  -- stored bytes of every chunk it references
ALTER TABLE archives ADD COLUMN chunk_count INTEGER;

-- SQLite cannot change a CHECK constraint in place: rebuild tasks.
CREATE TABLE tasks_v2 (
  uuid         TEXT PRIMARY KEY,
  owner        TEXT NOT NULL,
  op           TEXT NOT NULL CHECK (op IN ('backup', 'restore', 'purge', 'verify', 'gc')),
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
INSERT INTO tasks_v2 SELECT * FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v2 RENAME TO tasks;
CREATE INDEX tasks_status ON tasks (status, priority, requested_at);
CREATE INDEX tasks_job ON tasks (job_uuid, requested_at);
