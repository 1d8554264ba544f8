-- The wider set of ledger kinds stays: the entries already written with the newer kinds are
-- append-only and cannot be removed, and the older code never writes them.
SELECT 1;
