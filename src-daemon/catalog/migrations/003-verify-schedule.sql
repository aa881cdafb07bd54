-- A job may also verify its newest valid archive on a schedule of its own:
-- every chunk read back and authenticated, as POST /v1/archive/:uuid/verify
-- does. NULL: no scheduled verify. Deleting a schedule a job uses this way is
-- refused, as for the job's backup schedule.

ALTER TABLE jobs ADD COLUMN verify_schedule_uuid TEXT REFERENCES schedules (uuid);
ALTER TABLE jobs ADD COLUMN last_verify_fired_at INTEGER; -- the scheduled verify time last dealt with
CREATE INDEX jobs_verify_schedule ON jobs (verify_schedule_uuid);
