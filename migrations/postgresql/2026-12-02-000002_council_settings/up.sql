-- What each council decides for its own area, who verified a provider, and which council set up
-- a broker organisation.

-- One row per council once it changes anything; a council without a row has the defaults.
CREATE TABLE council_settings (
    council_id BIGINT PRIMARY KEY REFERENCES councils (id),
    -- True keeps today's behaviour: families may book providers the council has not verified.
    unverified_bookable BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMP NOT NULL
);

-- The council whose officer verified the provider (shown as "Verified by ..."); NULL otherwise.
ALTER TABLE organisations ADD COLUMN verified_by_council_id BIGINT REFERENCES councils (id);
-- The council that set up a broker organisation; its officers choose brokers from their own.
ALTER TABLE organisations ADD COLUMN council_id BIGINT REFERENCES councils (id);

-- Providers verified before this was recorded: the first council is the only one such sites had.
UPDATE organisations SET verified_by_council_id = (SELECT MIN(id) FROM councils) WHERE status = 'verified';
-- Brokers made before: the council of the plans they manage.
UPDATE organisations SET council_id = (
    SELECT MIN(b.council_id) FROM budget_holders b WHERE b.broker_organisation_id = organisations.id
) WHERE kind = 'broker';
