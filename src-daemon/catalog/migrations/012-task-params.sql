-- What a task was asked to do beyond its columns, as JSON: a restore's paths,
-- conflict rule and destination; a backup's full_read. NULL: nothing more.
ALTER TABLE tasks ADD COLUMN params TEXT;
