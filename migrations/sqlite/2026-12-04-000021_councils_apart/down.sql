ALTER TABLE organisations ADD COLUMN verified_by_council_id BIGINT REFERENCES councils (id);
UPDATE organisations SET verified_by_council_id = (
    SELECT MIN(l.council_id) FROM council_listings l WHERE l.organisation_id = organisations.id AND l.status = 'verified'
) WHERE status = 'verified';
DROP TABLE council_listings;
DROP TABLE plan_links;
UPDATE users SET council_id = NULL WHERE role = 'family';
