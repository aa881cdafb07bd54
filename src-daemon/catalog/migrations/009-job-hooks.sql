-- Commands a job runs around its backups: before (quiesce an application,
-- flush caches, stop a container), after, and on failure. JSON, as the API
-- takes it: {"before": [{"command": ..., "essential": ..., "timeout_seconds": ...}], ...}.
-- '{}' for none.
ALTER TABLE jobs ADD COLUMN hooks TEXT NOT NULL DEFAULT '{}';
