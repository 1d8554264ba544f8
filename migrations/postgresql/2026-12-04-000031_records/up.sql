-- Who read or changed a budget holder's data other than its family: append-only, no personal
-- data (the route is a template, never a URL). No user for the operator's own commands.
CREATE TABLE access_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    user_id BIGINT REFERENCES users (id),
    role TEXT NOT NULL,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    action TEXT NOT NULL,
    route TEXT NOT NULL
);
CREATE INDEX access_log_holder ON access_log (budget_holder_id, id);

-- An erased budget holder keeps its row (the ledger and bookings point at it) without its person.
ALTER TABLE budget_holders ADD COLUMN erased_at TIMESTAMP;

-- The search log past its retention, as counts per month, postcode district and outcome term.
CREATE TABLE search_log_monthly (
    month TEXT NOT NULL,
    postcode_district TEXT NOT NULL,
    outcome TEXT NOT NULL,
    searches BIGINT NOT NULL,
    without_results BIGINT NOT NULL,
    PRIMARY KEY (month, postcode_district, outcome)
);
