-- The ledger's kinds, widened for issue 16's movements (invoices approved, credit notes,
-- direct payments paid in, spending, spending accepted, recoveries).
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('allocated', 'admin_fee', 'booked', 'released', 'invoice_approved', 'credited', 'paid_in', 'spending', 'spending_accepted', 'recovered'));
