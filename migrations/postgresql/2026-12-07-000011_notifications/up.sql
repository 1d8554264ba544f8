-- Issue 18: people are told. Every event that should tell someone writes a notification in the
-- same transaction as the change; a mail job (in the jobs table) delivers it.
ALTER TABLE users ADD COLUMN email_confirmed_at TIMESTAMP;
-- Events whose email this user has turned off, comma separated (the required ones never are).
ALTER TABLE users ADD COLUMN mail_off TEXT NOT NULL DEFAULT '';
-- Everyone who could log in before this migration is taken as confirmed.
UPDATE users SET email_confirmed_at = created_at;

-- A service its unconfirmed provider asked to publish: kept as a draft, published on confirmation.
ALTER TABLE services ADD COLUMN publish_on_confirm BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    event TEXT NOT NULL,
    -- What the notice says, as the product's templates will word it: no personal data in `title`.
    title TEXT NOT NULL,
    paragraphs TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    mail_status TEXT NOT NULL CHECK (mail_status IN ('pending', 'sent', 'failed', 'off')),
    mail_attempts INTEGER NOT NULL DEFAULT 0,
    mail_error TEXT,
    mail_sent_at TIMESTAMP,
    -- Set for notices that must be sent once only (a reminder per seat, a review per due date).
    once_key TEXT UNIQUE
);
CREATE INDEX notifications_of_user ON notifications (user_id, id);

-- Single-use links mailed to people: invitations (7 days), password resets (1 hour) and email
-- confirmations. Only the token's hash is kept.
CREATE TABLE account_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'confirm_email')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_of_user ON account_tokens (user_id, purpose);
