-- When a service runs, for the day-of-week search.
CREATE TABLE service_sessions (
    service_id BIGINT NOT NULL REFERENCES services (id),
    position INTEGER NOT NULL,
    day TEXT NOT NULL CHECK (day IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')),
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    PRIMARY KEY (service_id, position)
);

-- The change log the search index follows: written in the same transaction as the change, so an
-- index that missed a change (a crash between the two commits, another server's write) catches up.
CREATE TABLE service_changes (
    seq BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- Public searches, without personal data, for the council's gap reports.
CREATE TABLE search_log (
    id BIGSERIAL PRIMARY KEY,
    searched_at TIMESTAMP NOT NULL,
    query_text TEXT,
    outcomes TEXT NOT NULL,
    service_types TEXT NOT NULL,
    needs TEXT NOT NULL,
    postcode_district TEXT,
    radius_miles DOUBLE PRECISION,
    age INTEGER,
    result_count BIGINT NOT NULL
);
CREATE INDEX search_log_searched_at ON search_log (searched_at);

-- Services changed before the change log existed are indexed by the first rebuild.
INSERT INTO service_changes (service_id, changed_at) SELECT id, updated_at FROM services;
