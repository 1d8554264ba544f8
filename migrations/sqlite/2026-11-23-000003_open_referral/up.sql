-- Open Referral UK. Records imported from another directory keep the feed and the id they had
-- there, so a second import updates them rather than adding copies. Such records often lack what
-- our own providers must give: a place, a capacity, a kind of organisation. Those become optional.
-- SQLite cannot drop NOT NULL in place, so each such column is copied, dropped and renamed.

ALTER TABLE organisations ADD COLUMN feed TEXT;
ALTER TABLE organisations ADD COLUMN feed_id TEXT;
CREATE UNIQUE INDEX organisations_feed ON organisations (feed, feed_id);
ALTER TABLE organisations ADD COLUMN kind_stated TEXT CHECK (kind_stated IN ('vcs', 'private', 'broker'));
UPDATE organisations SET kind_stated = kind;
ALTER TABLE organisations DROP COLUMN kind;
ALTER TABLE organisations RENAME COLUMN kind_stated TO kind;

ALTER TABLE services ADD COLUMN feed TEXT;
ALTER TABLE services ADD COLUMN feed_id TEXT;
CREATE UNIQUE INDEX services_feed ON services (feed, feed_id);
ALTER TABLE services ADD COLUMN url TEXT;
ALTER TABLE services ADD COLUMN email TEXT;
-- A fingerprint of the record as last imported: an unchanged record is not rewritten.
ALTER TABLE services ADD COLUMN feed_hash TEXT;
ALTER TABLE services ADD COLUMN lat_given DOUBLE;
ALTER TABLE services ADD COLUMN lon_given DOUBLE;
ALTER TABLE services ADD COLUMN capacity_given INTEGER CHECK (capacity_given > 0);
UPDATE services SET lat_given = lat, lon_given = lon, capacity_given = capacity;
ALTER TABLE services DROP COLUMN lat;
ALTER TABLE services DROP COLUMN lon;
ALTER TABLE services DROP COLUMN capacity;
ALTER TABLE services RENAME COLUMN lat_given TO lat;
ALTER TABLE services RENAME COLUMN lon_given TO lon;
ALTER TABLE services RENAME COLUMN capacity_given TO capacity;

-- Open Referral ids are UUIDs and must not collide with another council's: ours carry this
-- deployment's own random prefix.
CREATE TABLE site_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    uuid_prefix TEXT NOT NULL
);
INSERT INTO site_identity (id, uuid_prefix) VALUES (1, lower(hex(randomblob(6))));
