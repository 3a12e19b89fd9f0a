-- The routing engine's state: what the sans-IO core emits as Save/Forget/Timer
-- commands, so a restart rebuilds the same router (issue 4).

-- Queue options beyond mode and intervals (R7–R10, R14, A4, Q1, Q2), as JSON.
ALTER TABLE queues ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

-- A session waiting for its rating is over for routing: the customer's next
-- message starts a new session (S2), so only earlier states hold the chat.
DROP INDEX sessions_open_chat;
CREATE UNIQUE INDEX sessions_open_chat ON sessions (channel_id, chat_id) WHERE state NOT IN ('closed', 'rating');

-- The spine's generic timers table is replaced by the core's own timer keys.
DROP TABLE timers;
CREATE TABLE routing_timers (
    kind    TEXT    NOT NULL,
    subject BIGINT NOT NULL,
    due_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);

CREATE TABLE routing_sessions (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    snapshot   TEXT    NOT NULL
);

CREATE TABLE routing_agents (
    agent_id BIGINT PRIMARY KEY REFERENCES users (id),
    snapshot TEXT    NOT NULL
);
