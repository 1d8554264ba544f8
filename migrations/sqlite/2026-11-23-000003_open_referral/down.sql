-- Imported rows may lack what the previous version requires (a place, a capacity, a kind).
DELETE FROM service_terms WHERE service_id IN (SELECT id FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL);
DELETE FROM service_streams WHERE service_id IN (SELECT id FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL);
DELETE FROM service_sessions WHERE service_id IN (SELECT id FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL);
DELETE FROM price_options WHERE service_id IN (SELECT id FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL);
DELETE FROM service_changes WHERE service_id IN (SELECT id FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL);
DELETE FROM services WHERE feed IS NOT NULL OR lat IS NULL OR capacity IS NULL;
DELETE FROM organisations WHERE kind IS NULL AND id NOT IN (SELECT organisation_id FROM services);
DROP TABLE site_identity;
DROP INDEX services_feed;
ALTER TABLE services DROP COLUMN feed;
ALTER TABLE services DROP COLUMN feed_id;
ALTER TABLE services DROP COLUMN url;
ALTER TABLE services DROP COLUMN email;
ALTER TABLE services DROP COLUMN feed_hash;
DROP INDEX organisations_feed;
ALTER TABLE organisations DROP COLUMN feed;
ALTER TABLE organisations DROP COLUMN feed_id;
