//! Council payment runs of approved invoices.
