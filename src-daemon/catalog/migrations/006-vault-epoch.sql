-- The GC epoch of each store's vault that this daemon's chunk index was last
-- made to match. A garbage collection (by any daemon sharing the store)
-- writes a new epoch into the store before it deletes a chunk; a writer that
-- finds another epoch than the one recorded here lists the store's chunks and
-- makes the index match before it trusts it. '' stands for a store that had
-- no epoch object yet.
CREATE TABLE vault_index_epochs (
  store_uuid TEXT PRIMARY KEY,
  epoch      TEXT NOT NULL,
  synced_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- A chunk the index learnt from a listing (a rescan, or GC starting its grace
-- period) is known to exist but not to open: writers do not skip it on the
-- index's word (they check the object first), until they have stored or
-- checked it themselves.
ALTER TABLE vault_chunks ADD COLUMN checked INTEGER NOT NULL DEFAULT 1;
