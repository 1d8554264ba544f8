//! Direct-payment pages: payments in, spending, receipts, the audit queue and the surplus test.
