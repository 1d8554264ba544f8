-- An idle timeout beside the absolute one: when a session was last used (updated at most about
-- once a minute), and a user's sessions found at once to end them all.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_user ON sessions (user_id);
