DROP TABLE site_identity;
DROP INDEX services_feed;
ALTER TABLE services DROP COLUMN feed, DROP COLUMN feed_id, DROP COLUMN url, DROP COLUMN email;
DROP INDEX organisations_feed;
ALTER TABLE organisations DROP COLUMN feed, DROP COLUMN feed_id;
