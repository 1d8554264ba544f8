-- An idle timeout beside the absolute one: when a session was last used (updated at most about
-- once a minute), and a user's sessions found at once to end them all.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
CREATE INDEX sessions_user ON sessions (user_id);
