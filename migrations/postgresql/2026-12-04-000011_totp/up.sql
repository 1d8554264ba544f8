-- A user's second factor (RFC 6238). Pending until the first code confirms it; last_step is the
-- last time step a code was accepted in, so that no code is accepted twice.
CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT,
    created_at TIMESTAMP NOT NULL
);
-- Single-use recovery codes, stored as SHA-256 hashes (they are random, so no slow hash is needed).
CREATE TABLE totp_recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes (user_id);
