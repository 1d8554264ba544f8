ALTER TABLE organisations DROP COLUMN council_id;
ALTER TABLE organisations DROP COLUMN verified_by_council_id;
DROP TABLE council_settings;
