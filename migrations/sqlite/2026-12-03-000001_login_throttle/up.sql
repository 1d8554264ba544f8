-- Failed logins per account, kept in the database so every server counts the same. Keyed by a
-- hash of the normalised email (never the email), whether or not an account has it.
CREATE TABLE login_throttle (
    email_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_started_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle (updated_at);
