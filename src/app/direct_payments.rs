//! Direct payments: instalments paid in, spending and receipts, the audit and the surplus test.
