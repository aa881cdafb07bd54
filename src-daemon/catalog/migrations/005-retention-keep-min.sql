-- A retention policy keeps the newest `keep_min` valid archives of each job
-- however old they are, so a job whose backups keep failing for longer than
-- its retention still has its last good archive. Existing policies keep 1.
-- Only the retention sweep honours it; deleting an archive by hand does not.

ALTER TABLE retention ADD COLUMN keep_min INTEGER NOT NULL DEFAULT 1 CHECK (keep_min >= 0);
