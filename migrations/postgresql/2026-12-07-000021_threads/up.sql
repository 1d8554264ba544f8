-- Issue 18: messages between a family (or its broker) and a provider, about a service or a
-- booking. The council sees a thread only once one of them adds it.
CREATE TABLE threads (
    id BIGSERIAL PRIMARY KEY,
    budget_holder_id BIGINT NOT NULL REFERENCES budget_holders (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    service_id BIGINT REFERENCES services (id),
    -- A booking has one thread, kept with it.
    booking_id BIGINT UNIQUE REFERENCES bookings (id),
    started_by BIGINT NOT NULL REFERENCES users (id),
    started_by_role TEXT NOT NULL CHECK (started_by_role IN ('family', 'broker')),
    council_added_at TIMESTAMP,
    council_added_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_message_at TIMESTAMP NOT NULL,
    CHECK ((service_id IS NULL) <> (booking_id IS NULL))
);
CREATE INDEX threads_provider ON threads (organisation_id, last_message_at);
CREATE INDEX threads_holder ON threads (budget_holder_id, last_message_at);

CREATE TABLE thread_messages (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    author_role TEXT NOT NULL CHECK (author_role IN ('provider', 'family', 'broker', 'council')),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX thread_messages_thread ON thread_messages (thread_id, id);
-- The rate limit counts an author's messages in the last hour.
CREATE INDEX thread_messages_author ON thread_messages (author_id, created_at);

-- How far each user has read each thread: messages after this one (by others) are unread.
CREATE TABLE thread_reads (
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    last_read_message_id BIGINT NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
