-- Councils kept apart on a shared database: a family account belongs to the council that made
-- it, another council's plan reaches it only when the family accepts, and each council keeps its
-- own Local Offer listing of a provider (verified or suspended by that council alone).

-- The council that made each family account: the council of its first plan.
UPDATE users SET council_id = (
    SELECT b.council_id FROM budget_holders b WHERE b.family_user_id = users.id ORDER BY b.id LIMIT 1
) WHERE role = 'family';

-- A plan another council added for a family it does not own: until the family accepts, the plan
-- belongs to a stand-in login (no password, an address that cannot receive mail) and the family
-- sees nothing of it but this link.
CREATE TABLE plan_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    budget_holder_id BIGINT NOT NULL UNIQUE REFERENCES budget_holders (id),
    family_user_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX plan_links_family ON plan_links (family_user_id, status);

-- A provider in one council's Local Offer.
CREATE TABLE council_listings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    council_id BIGINT NOT NULL REFERENCES councils (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL CHECK (status IN ('listed', 'verified', 'suspended')),
    verified_at TIMESTAMP,
    suspended_at TIMESTAMP,
    reason TEXT,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (council_id, organisation_id)
);
CREATE INDEX council_listings_organisation ON council_listings (organisation_id);

-- A verification stays with the council that made it.
INSERT INTO council_listings (council_id, organisation_id, status, verified_at, updated_at)
SELECT verified_by_council_id, id, 'verified', created_at, created_at
FROM organisations WHERE status = 'verified' AND verified_by_council_id IS NOT NULL;
-- Who suspended a provider was never recorded: every council keeps the suspension, so nobody's
-- families see it again until a council reinstates it for its own.
INSERT INTO council_listings (council_id, organisation_id, status, suspended_at, updated_at)
SELECT c.id, o.id, 'suspended', o.created_at, o.created_at
FROM organisations o CROSS JOIN councils c WHERE o.status = 'suspended';

-- Who verified a provider is now its listings'.
ALTER TABLE organisations DROP COLUMN verified_by_council_id;
