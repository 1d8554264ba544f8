-- Open Referral UK. Records imported from another directory keep the feed and the id they had
-- there, so a second import updates them rather than adding copies. Such records often lack what
-- our own providers must give: a place, a capacity, a kind of organisation. Those become optional.

ALTER TABLE organisations
    ADD COLUMN feed TEXT,
    ADD COLUMN feed_id TEXT,
    ALTER COLUMN kind DROP NOT NULL;
CREATE UNIQUE INDEX organisations_feed ON organisations (feed, feed_id);

ALTER TABLE services
    ADD COLUMN feed TEXT,
    ADD COLUMN feed_id TEXT,
    ADD COLUMN url TEXT,
    ADD COLUMN email TEXT,
    -- A fingerprint of the record as last imported: an unchanged record is not rewritten.
    ADD COLUMN feed_hash TEXT,
    ALTER COLUMN lat DROP NOT NULL,
    ALTER COLUMN lon DROP NOT NULL,
    ALTER COLUMN capacity DROP NOT NULL;
CREATE UNIQUE INDEX services_feed ON services (feed, feed_id);

-- Open Referral ids are UUIDs and must not collide with another council's: ours carry this
-- deployment's own random prefix.
CREATE TABLE site_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    uuid_prefix TEXT NOT NULL
);
INSERT INTO site_identity (id, uuid_prefix) VALUES (1, substr(md5(random()::text || clock_timestamp()::text), 1, 12));
