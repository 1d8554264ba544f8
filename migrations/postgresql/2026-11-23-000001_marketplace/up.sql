-- The marketplace core. Money is integer pence; every CHECK below is a rule from DESIGN.md.

CREATE TABLE councils (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE organisations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('vcs', 'private', 'broker')),
    charity_number TEXT,
    company_number TEXT,
    website TEXT,
    phone TEXT,
    email TEXT,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified', 'suspended')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('provider', 'family', 'broker', 'council')),
    organisation_id BIGINT REFERENCES organisations (id),
    council_id BIGINT REFERENCES councils (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    min_age INTEGER NOT NULL CHECK (min_age BETWEEN 0 AND 25),
    max_age INTEGER NOT NULL CHECK (max_age BETWEEN 0 AND 25 AND max_age >= min_age),
    postcode TEXT,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    address TEXT,
    reach_miles DOUBLE PRECISION,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'unpublished')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX services_organisation ON services (organisation_id);

CREATE TABLE service_terms (
    service_id BIGINT NOT NULL REFERENCES services (id),
    term_id TEXT NOT NULL,
    vocabulary TEXT NOT NULL CHECK (vocabulary IN ('outcome', 'need', 'service_type')),
    PRIMARY KEY (service_id, term_id)
);

CREATE TABLE service_streams (
    service_id BIGINT NOT NULL REFERENCES services (id),
    stream TEXT NOT NULL CHECK (stream IN ('education', 'health', 'social_care')),
    PRIMARY KEY (service_id, stream)
);

-- Re-pricing retires an option (active = false) rather than deleting it: bookings point at it.
CREATE TABLE price_options (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    unit TEXT NOT NULL CHECK (unit IN ('session', 'hour', 'day', 'night', 'week', 'journey', 'item')),
    price_pence BIGINT NOT NULL CHECK (price_pence >= 0),
    fcr_annual_direct_pence BIGINT,
    fcr_annual_overheads_pence BIGINT,
    fcr_units_per_year BIGINT,
    fcr_occupancy_bp INTEGER CHECK (fcr_occupancy_bp BETWEEN 1 AND 10000),
    fcr_full_cost_pence BIGINT,
    active BOOLEAN NOT NULL
);
CREATE INDEX price_options_service ON price_options (service_id);

CREATE TABLE budget_holders (
    id BIGSERIAL PRIMARY KEY,
    council_id BIGINT NOT NULL REFERENCES councils (id),
    reference TEXT NOT NULL,
    first_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    postcode TEXT NOT NULL,
    plan_start DATE NOT NULL,
    plan_end DATE NOT NULL CHECK (plan_end > plan_start),
    family_user_id BIGINT NOT NULL REFERENCES users (id),
    broker_organisation_id BIGINT REFERENCES organisations (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (council_id, reference)
);
CREATE INDEX budget_holders_family ON budget_holders (family_user_id);

CREATE TABLE plan_outcomes (
    id BIGSERIAL PRIMARY KEY,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'not_started' CHECK (status IN ('not_started', 'partly_met', 'fully_met'))
);

CREATE TABLE plan_outcome_terms (
    plan_outcome_id BIGINT NOT NULL REFERENCES plan_outcomes (id),
    term_id TEXT NOT NULL,
    PRIMARY KEY (plan_outcome_id, term_id)
);

-- Rule 2 lives here as well as in the guarded UPDATE: committed can never pass amount.
CREATE TABLE allocations (
    id BIGSERIAL PRIMARY KEY,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    stream TEXT NOT NULL CHECK (stream IN ('education', 'health', 'social_care')),
    management TEXT NOT NULL CHECK (management IN ('direct_payment', 'organised', 'third_party')),
    amount_pence BIGINT NOT NULL CHECK (amount_pence >= 0),
    committed_pence BIGINT NOT NULL CHECK (committed_pence >= 0 AND committed_pence <= amount_pence),
    admin_fee_pence BIGINT NOT NULL CHECK (admin_fee_pence >= 0),
    UNIQUE (budget_holder_id, stream)
);

CREATE TABLE bookings (
    id BIGSERIAL PRIMARY KEY,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    service_id BIGINT NOT NULL REFERENCES services (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    price_option_id BIGINT NOT NULL REFERENCES price_options (id),
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_pence BIGINT NOT NULL CHECK (unit_price_pence >= 0),
    total_pence BIGINT NOT NULL CHECK (total_pence = unit_price_pence * quantity),
    status TEXT NOT NULL CHECK (status IN ('requested', 'confirmed', 'delivered', 'declined', 'cancelled')),
    created_by BIGINT NOT NULL REFERENCES users (id),
    idempotency_key TEXT,
    request_fingerprint TEXT,
    remaining_after_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX bookings_holder ON bookings (budget_holder_id);
CREATE INDEX bookings_organisation ON bookings (organisation_id);
CREATE INDEX bookings_allocation ON bookings (allocation_id);

-- Append-only: signed movements on an allocation's remaining balance.
CREATE TABLE ledger_entries (
    id BIGSERIAL PRIMARY KEY,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    booking_id BIGINT REFERENCES bookings (id),
    kind TEXT NOT NULL CHECK (kind IN ('allocated', 'admin_fee', 'booked', 'released')),
    amount_pence BIGINT NOT NULL,
    balance_after_pence BIGINT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_allocation ON ledger_entries (allocation_id);

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
