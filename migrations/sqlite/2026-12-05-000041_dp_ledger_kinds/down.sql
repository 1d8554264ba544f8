-- The ledger's kinds, back to the four before issue 16 (fails while entries of the newer kinds exist).
-- SQLite cannot change a CHECK in place: the table is rebuilt with its rows, index and triggers.
CREATE TABLE ledger_entries_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    booking_id BIGINT REFERENCES bookings (id),
    kind TEXT NOT NULL CHECK (kind IN ('allocated', 'admin_fee', 'booked', 'released')),
    amount_pence BIGINT NOT NULL,
    balance_after_pence BIGINT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    spent_change_pence BIGINT NOT NULL DEFAULT 0,
    cash_change_pence BIGINT NOT NULL DEFAULT 0,
    invoice_id BIGINT,
    spending_id BIGINT
);
INSERT INTO ledger_entries_new (id, allocation_id, booking_id, kind, amount_pence, balance_after_pence,
    description, created_at, spent_change_pence, cash_change_pence, invoice_id, spending_id)
SELECT id, allocation_id, booking_id, kind, amount_pence, balance_after_pence,
    description, created_at, spent_change_pence, cash_change_pence, invoice_id, spending_id
FROM ledger_entries;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_new RENAME TO ledger_entries;
CREATE INDEX ledger_allocation ON ledger_entries (allocation_id);
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
