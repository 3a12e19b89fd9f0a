-- Several nodes (issue 18): routing events from every node reach the routing
-- leader through this table. Ingest writes a row in the transaction that
-- stores its message, and a node that does not route writes one for each
-- agent action it forwards; the leader applies rows in id order and deletes
-- them in the transaction of the step that applied them, so each is applied
-- exactly once, even when the node that accepted it dies right after.
-- SQLite runs one node and routes in memory: it has no such table.
CREATE TABLE routing_inbox (
    id           BIGSERIAL   PRIMARY KEY,
    -- The node that accepted the event (its node id), for logs.
    origin       TEXT        NOT NULL,
    -- The event, ids only, in the engine's versioned wire form (engine/wire.rs).
    event        JSONB       NOT NULL,
    -- A node waits for the leader's answer in routing_answers.
    wants_answer BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The leader's answer to a forwarded action, written in the step that
-- applied it; the waiting node deletes it once read, and answers nobody
-- read (the node gave up waiting, or died) are swept after an hour.
CREATE TABLE routing_answers (
    inbox_id   BIGINT      PRIMARY KEY,
    -- Outcome or refusal, in the engine's wire form.
    outcome    JSONB       NOT NULL,
    -- An agent's reply the step stored: its message (and through it its outbox entry).
    message_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX routing_answers_created_at ON routing_answers (created_at);
