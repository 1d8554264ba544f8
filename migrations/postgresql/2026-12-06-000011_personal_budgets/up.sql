-- Issue 17: from a family's request to Section J. Council users carry permissions (assess,
-- decide, admin); the officer each council started with keeps every one.
ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
UPDATE users SET permissions = 'assess,decide,admin' WHERE role = 'council';

-- A direct payment decided by the panel is not paid in until the family accepts its agreement.
ALTER TABLE allocations ADD COLUMN awaiting_agreement BOOLEAN NOT NULL DEFAULT FALSE;

-- A resource allocation system: one version of a council's questionnaire and allocation table
-- for one funding stream. Frozen from its first use, so any indicative budget can be reproduced.
CREATE TABLE ras (
    id BIGSERIAL PRIMARY KEY,
    council_id BIGINT NOT NULL REFERENCES councils (id),
    name TEXT NOT NULL,
    stream TEXT NOT NULL CHECK (stream IN ('education', 'health', 'social_care')),
    version INTEGER NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    first_used_at TIMESTAMP,
    UNIQUE (council_id, name, stream, version)
);

CREATE TABLE pb_requests (
    id BIGSERIAL PRIMARY KEY,
    council_id BIGINT NOT NULL REFERENCES councils (id),
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    kind TEXT NOT NULL CHECK (kind IN ('new_plan', 'review')),
    streams TEXT NOT NULL,
    preferred_management TEXT NOT NULL CHECK (preferred_management IN ('direct_payment', 'organised', 'third_party')),
    status TEXT NOT NULL CHECK (status IN ('received', 'assessed', 'agreed', 'varied', 'refused', 'under_review')),
    received_on DATE NOT NULL,
    decision_due DATE NOT NULL,
    made_by BIGINT NOT NULL REFERENCES users (id),
    made_by_role TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    review_reason TEXT,
    review_requested_at TIMESTAMP,
    review_requested_by BIGINT REFERENCES users (id),
    agreement_required BOOLEAN NOT NULL DEFAULT FALSE,
    agreement_accepted_at TIMESTAMP,
    agreement_accepted_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pb_requests_council ON pb_requests (council_id, status, id);
CREATE INDEX pb_requests_holder ON pb_requests (budget_holder_id);

CREATE TABLE pb_assessments (
    id BIGSERIAL PRIMARY KEY,
    pb_request_id BIGINT NOT NULL REFERENCES pb_requests (id),
    ras_id BIGINT NOT NULL REFERENCES ras (id),
    stream TEXT NOT NULL,
    answers TEXT NOT NULL,
    raw_score INTEGER NOT NULL,
    band INTEGER,
    indicative_pence BIGINT NOT NULL CHECK (indicative_pence >= 0),
    assessed_by BIGINT NOT NULL REFERENCES users (id),
    by_family BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pb_assessments_request ON pb_assessments (pb_request_id, id);

-- At most one first decision and one review decision per request: the unique key is the guard
-- when two deciders race.
CREATE TABLE pb_decisions (
    id BIGSERIAL PRIMARY KEY,
    pb_request_id BIGINT NOT NULL REFERENCES pb_requests (id),
    stage TEXT NOT NULL CHECK (stage IN ('first', 'review')),
    outcome TEXT NOT NULL CHECK (outcome IN ('agreed', 'varied', 'refused')),
    reasons TEXT NOT NULL,
    decided_by BIGINT NOT NULL REFERENCES users (id),
    decided_at TIMESTAMP NOT NULL,
    UNIQUE (pb_request_id, stage)
);

CREATE TABLE pb_decision_lines (
    decision_id BIGINT NOT NULL REFERENCES pb_decisions (id),
    stream TEXT NOT NULL,
    management TEXT NOT NULL,
    amount_pence BIGINT NOT NULL CHECK (amount_pence >= 0),
    indicative_pence BIGINT,
    allocation_id BIGINT NOT NULL REFERENCES allocations (id),
    PRIMARY KEY (decision_id, stream)
);

-- Reviews held of a plan: six weeks after a personal budget starts, the plan's annual review,
-- and a young person's screening for adult social care before 17 and a half.
CREATE TABLE plan_reviews (
    id BIGSERIAL PRIMARY KEY,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    kind TEXT NOT NULL CHECK (kind IN ('six_week', 'annual', 'adult_screening')),
    held_on DATE NOT NULL,
    notes TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_reviews_holder ON plan_reviews (budget_holder_id, kind);
