-- What a restore created and must remove again if it does not succeed (a
-- database it made for the data): one row per note a target plugin passed to
-- ctx.created, written BEFORE the creation, so even a daemon killed mid-restore
-- leaves a trace. A row is deleted once the restore succeeds, or once the
-- plugin (its own cleanup) or the daemon (undoRestore, after the failure or at
-- the next start) has removed what it describes. No foreign keys: a note
-- outlives its task, and a deleted target only makes it unusable.
CREATE TABLE restore_undo (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  task_uuid   TEXT NOT NULL,
  target_uuid TEXT NOT NULL,
  plugin      TEXT NOT NULL,           -- the target plugin that wrote the note
  note        TEXT NOT NULL,           -- JSON object, what undoRestore needs
  created_at  INTEGER NOT NULL
);
CREATE INDEX restore_undo_task ON restore_undo (task_uuid);
