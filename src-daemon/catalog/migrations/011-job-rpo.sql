-- A job's recovery point objective: how old its newest valid archive may get
-- before the health signal "stale" is raised. NULL: twice its schedule's period.
ALTER TABLE jobs ADD COLUMN rpo_seconds INTEGER;
