-- Lists of archives are newest first (taken_at DESC, then uuid), paged by
-- that key: an index in that very order answers a page without sorting every
-- archive (10,000 of them: ~20 ms a page without it).
CREATE INDEX archives_taken ON archives (taken_at DESC, uuid);
