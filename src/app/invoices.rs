//! Invoices: drafting from delivered sessions, issuing, the payer's answer, credit notes.
