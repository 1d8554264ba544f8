-- A child's needs, as need terms of the taxonomy: plan matches prefer services for them and
-- leave out services only for needs the child does not have.
CREATE TABLE plan_needs (
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    term TEXT NOT NULL,
    PRIMARY KEY (budget_holder_id, term)
);
