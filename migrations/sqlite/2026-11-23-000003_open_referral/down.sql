DROP TABLE site_identity;
DROP INDEX services_feed;
ALTER TABLE services DROP COLUMN feed;
ALTER TABLE services DROP COLUMN feed_id;
ALTER TABLE services DROP COLUMN url;
ALTER TABLE services DROP COLUMN email;
DROP INDEX organisations_feed;
ALTER TABLE organisations DROP COLUMN feed;
ALTER TABLE organisations DROP COLUMN feed_id;
