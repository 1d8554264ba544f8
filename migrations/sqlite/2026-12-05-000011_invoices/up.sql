-- Issue 16: invoices from delivered sessions, payment runs, direct payments and their spending.
--
-- Money on an allocation: amount = remaining + committed + spent. A ledger entry's amount is the
-- change in remaining (as before); spent_change is the change in spent; committed is what is left.
-- cash_change is money paid into (or recovered from) a direct-payment holder's account.
ALTER TABLE allocations ADD COLUMN spent_pence BIGINT NOT NULL DEFAULT 0;
-- How a direct payment is paid in: four_weekly (in advance) or monthly. Unused by other streams.
ALTER TABLE allocations ADD COLUMN payment_schedule TEXT NOT NULL DEFAULT 'four_weekly';

ALTER TABLE ledger_entries ADD COLUMN spent_change_pence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN cash_change_pence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN invoice_id BIGINT;
ALTER TABLE ledger_entries ADD COLUMN spending_id BIGINT;

-- A provider's invoicing settings. VAT is included in prices: a registered provider's invoice
-- shows the VAT its total contains. Numbers are gap-free per provider: the next one is taken
-- in the issuing transaction.
ALTER TABLE organisations ADD COLUMN vat_number TEXT;
ALTER TABLE organisations ADD COLUMN vat_rate_bp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN payment_terms_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE organisations ADD COLUMN next_invoice_number BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN next_credit_note_number BIGINT NOT NULL DEFAULT 1;

-- Bank details sealed with the service's data key (AES-256-GCM); only the last digits are plain.
CREATE TABLE bank_details (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    account_name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    account_last_digits TEXT NOT NULL,
    payment_reference TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- How a council invoices and audits: four_weekly periods start on period_anchor.
ALTER TABLE council_settings ADD COLUMN invoice_period TEXT NOT NULL DEFAULT 'calendar_month';
ALTER TABLE council_settings ADD COLUMN period_anchor DATE NOT NULL DEFAULT '2026-04-06';
ALTER TABLE council_settings ADD COLUMN audit_over_pence BIGINT NOT NULL DEFAULT 25000;
ALTER TABLE council_settings ADD COLUMN audit_sample_percent INTEGER NOT NULL DEFAULT 10;

CREATE TABLE payment_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    council_id BIGINT NOT NULL REFERENCES councils (id),
    status TEXT NOT NULL,
    invoice_count BIGINT NOT NULL,
    total_pence BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    paid_on DATE,
    paid_at TIMESTAMP
);
CREATE INDEX payment_runs_council ON payment_runs (council_id, id);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    council_id BIGINT NOT NULL REFERENCES councils (id),
    payer TEXT NOT NULL,
    payer_organisation_id BIGINT REFERENCES organisations (id),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    status TEXT NOT NULL,
    number BIGINT,
    issued_on DATE,
    due_on DATE,
    net_pence BIGINT NOT NULL DEFAULT 0,
    vat_pence BIGINT NOT NULL DEFAULT 0,
    total_pence BIGINT NOT NULL DEFAULT 0,
    credited_pence BIGINT NOT NULL DEFAULT 0,
    vat_number TEXT,
    vat_rate_bp INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    dispute_reason TEXT,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    paid_on DATE,
    paid_reference TEXT,
    payment_run_id BIGINT REFERENCES payment_runs (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX invoices_number ON invoices (organisation_id, number);
CREATE UNIQUE INDEX invoices_one_draft ON invoices (organisation_id, budget_holder_id, payer, period_start)
    WHERE status = 'draft';
CREATE INDEX invoices_provider ON invoices (organisation_id, status, id);
CREATE INDEX invoices_payer ON invoices (council_id, payer, status, id);
CREATE INDEX invoices_holder ON invoices (budget_holder_id, id);
CREATE INDEX invoices_run ON invoices (payment_run_id);

-- One line per delivered item: a booked session, or a booking bought by quantity. item_key is
-- unique across every invoice, so nothing is ever invoiced twice.
CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    session_id BIGINT REFERENCES dated_sessions (id),
    item_key TEXT NOT NULL UNIQUE,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    delivered_on DATE NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_pence BIGINT NOT NULL,
    amount_pence BIGINT NOT NULL,
    credited_pence BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, id);
CREATE INDEX invoice_lines_booking ON invoice_lines (booking_id);

CREATE TABLE credit_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    number BIGINT NOT NULL,
    reason TEXT NOT NULL,
    total_pence BIGINT NOT NULL,
    vat_pence BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, number)
);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);

CREATE TABLE credit_note_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credit_note_id BIGINT NOT NULL REFERENCES credit_notes (id),
    invoice_line_id BIGINT NOT NULL REFERENCES invoice_lines (id),
    amount_pence BIGINT NOT NULL
);
CREATE INDEX credit_note_lines_note ON credit_note_lines (credit_note_id);

-- Direct payments paid into the holder's account, one row per instalment of the schedule.
CREATE TABLE direct_payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    instalment INTEGER NOT NULL,
    due_on DATE NOT NULL,
    amount_pence BIGINT NOT NULL,
    paid_at TIMESTAMP NOT NULL,
    UNIQUE (allocation_id, instalment)
);

-- Spending a family made from its direct payment outside the marketplace.
CREATE TABLE dp_spending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    payee TEXT NOT NULL,
    spent_on DATE NOT NULL,
    amount_pence BIGINT NOT NULL,
    description TEXT NOT NULL,
    plan_outcome_id BIGINT REFERENCES plan_outcomes (id),
    receipt_hash TEXT,
    receipt_type TEXT,
    receipt_bytes BIGINT,
    status TEXT NOT NULL,
    sampled BOOLEAN NOT NULL,
    query TEXT,
    answer TEXT,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dp_spending_holder ON dp_spending (budget_holder_id, id);
CREATE INDEX dp_spending_status ON dp_spending (status, id);

-- Money a council reclaimed from a direct-payment account (the six-week surplus test).
CREATE TABLE dp_recoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    amount_pence BIGINT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dp_recoveries_allocation ON dp_recoveries (allocation_id);
