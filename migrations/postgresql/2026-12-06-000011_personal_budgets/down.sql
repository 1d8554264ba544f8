DROP TABLE plan_reviews;
DROP TABLE pb_decision_lines;
DROP TABLE pb_decisions;
DROP TABLE pb_assessments;
DROP TABLE pb_requests;
DROP TABLE ras;
ALTER TABLE allocations DROP COLUMN awaiting_agreement;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN permissions;
