-- A feed that gives no ages claims none: its services are for ages "not stated", not 0 to 25.
ALTER TABLE services ADD COLUMN ages_stated BOOLEAN NOT NULL DEFAULT TRUE;
