-- What an archive was taken of, kept with the archive itself: the target's
-- name and where it pointed (non-secret endpoint fields, as text) at the time.
-- Shown when the target is deleted, or after a disaster-recovery import made
-- the archive's row from its manifest.
ALTER TABLE archives ADD COLUMN origin_target_name TEXT;
ALTER TABLE archives ADD COLUMN origin_target_location TEXT;
