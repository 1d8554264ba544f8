DROP TABLE search_log;
DROP TABLE service_changes;
DROP TABLE service_sessions;
