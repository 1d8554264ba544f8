DROP TABLE search_log_monthly;
ALTER TABLE budget_holders DROP COLUMN erased_at;
DROP TABLE access_log;
