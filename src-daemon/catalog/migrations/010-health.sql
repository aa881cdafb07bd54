-- The health signals raised now (services/health.ts): kept so a restart of
-- the daemon neither raises a signal again (a second notification) nor loses
-- when it was first seen. One row per signal id ("stale:job:<uuid>"); the
-- row goes when the signal is cleared.
CREATE TABLE health_signals (
  id     TEXT PRIMARY KEY,
  since  INTEGER NOT NULL,            -- when the condition was first seen (ms UTC)
  signal TEXT NOT NULL                -- the HealthSignal as JSON, as last computed
) WITHOUT ROWID;
