-- Remote agents: a Bulwark on the data's own host that dials out to this
-- daemon. Created with a one-time pairing token (only its sha256 is kept);
-- pairing stores the agent's public key, which then authenticates it.
CREATE TABLE agents (
  uuid             TEXT PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
  public_key       TEXT NOT NULL DEFAULT '', -- ed25519 SPKI PEM; '' until paired
  token_hash       TEXT NOT NULL DEFAULT '', -- sha256 of the pairing token; '' once used
  token_expires_at INTEGER,
  host             TEXT NOT NULL DEFAULT '',
  version          TEXT NOT NULL DEFAULT '',
  created_at       INTEGER NOT NULL,
  paired_at        INTEGER,
  last_seen        INTEGER
);
