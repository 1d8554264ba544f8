-- Dated sessions with places, waiting lists, booking references, the job runner, calendar feeds.
-- Times are stored as UTC instants; people read them on England's clock.

-- What a provider's sessions follow: how late a family may cancel and be refunded, how long a
-- waiting-list offer stays open, and what a late cancellation or an absence costs.
ALTER TABLE services ADD COLUMN cancellation_notice_hours INTEGER NOT NULL DEFAULT 48
    CHECK (cancellation_notice_hours BETWEEN 0 AND 720);
ALTER TABLE services ADD COLUMN offer_window_hours INTEGER NOT NULL DEFAULT 24
    CHECK (offer_window_hours BETWEEN 1 AND 168);
ALTER TABLE services ADD COLUMN late_cancellation TEXT NOT NULL DEFAULT 'charged'
    CHECK (late_cancellation IN ('charged', 'refunded'));
ALTER TABLE services ADD COLUMN absence TEXT NOT NULL DEFAULT 'charged'
    CHECK (absence IN ('charged', 'refunded'));

CREATE TABLE session_series (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id),
    days TEXT NOT NULL,
    first_day DATE NOT NULL,
    last_day DATE NOT NULL CHECK (last_day >= first_day),
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    except_days TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX session_series_service ON session_series (service_id);

-- Rule 1: a session's places taken never exceed its places.
CREATE TABLE dated_sessions (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id),
    series_id BIGINT REFERENCES session_series (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL CHECK (ends_at > starts_at),
    places INTEGER NOT NULL CHECK (places BETWEEN 1 AND 10000),
    places_taken INTEGER NOT NULL DEFAULT 0 CHECK (places_taken >= 0 AND places_taken <= places),
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    moved_from TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dated_sessions_service ON dated_sessions (service_id, starts_at);
CREATE INDEX dated_sessions_series ON dated_sessions (series_id);

-- A booking is by quantity (equipment, travel) or of dated sessions, each kept at its price.
-- Its total was unit price x quantity; a booking of sessions adds up prices that can differ
-- (an hourly option over sessions of different lengths), so that check is relaxed.
ALTER TABLE bookings DROP CONSTRAINT bookings_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_total_pence_check CHECK (total_pence >= 0);
ALTER TABLE bookings ADD COLUMN kind TEXT NOT NULL DEFAULT 'quantity' CHECK (kind IN ('quantity', 'sessions'));
ALTER TABLE bookings ADD COLUMN reference TEXT;
UPDATE bookings SET reference = 'Q' || lpad((id / 10000)::text, 3, '0') || '-' || lpad((id % 10000)::text, 4, '0');
CREATE UNIQUE INDEX bookings_reference ON bookings (reference);
-- What the family chooses to share with the provider (needs, medication, contact on the day).
ALTER TABLE bookings ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN contact TEXT NOT NULL DEFAULT '';

CREATE TABLE booking_sessions (
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    session_id BIGINT NOT NULL REFERENCES dated_sessions (id),
    price_pence BIGINT NOT NULL CHECK (price_pence >= 0),
    status TEXT NOT NULL CHECK (status IN ('booked', 'refunded', 'charged', 'attended', 'absent_charged', 'absent_refunded', 'session_cancelled')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (booking_id, session_id)
);
CREATE INDEX booking_sessions_session ON booking_sessions (session_id);

CREATE TABLE waitlist_entries (
    id BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES dated_sessions (id),
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    price_option_id BIGINT NOT NULL REFERENCES price_options (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'accepted', 'declined', 'expired')),
    offer_expires_at TIMESTAMP,
    booking_id BIGINT REFERENCES bookings (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX waitlist_session ON waitlist_entries (session_id, status, id);
CREATE INDEX waitlist_holder ON waitlist_entries (budget_holder_id);

-- Work that must happen later (an offer expiring), claimed by whichever server gets there first.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;

-- A secret, revocable address for a user's calendar of sessions (only its hash is kept).
CREATE TABLE calendar_feeds (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);
