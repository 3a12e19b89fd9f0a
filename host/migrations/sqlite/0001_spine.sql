-- The spine: users, channels and their queues, contacts, sessions, messages,
-- timers, outbox, inbound idempotency keys and the audit log.
-- Times are unix milliseconds (INTEGER) in both backends, so the code maps one type.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL UNIQUE,
    role             TEXT    NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    token_hash       TEXT    NOT NULL UNIQUE,
    disabled         INTEGER NOT NULL DEFAULT 0,
    dismissed        INTEGER NOT NULL DEFAULT 0,
    vacation         INTEGER NOT NULL DEFAULT 0,
    clocked_in       INTEGER NOT NULL DEFAULT 0,
    on_break         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER,
    created_at       INTEGER NOT NULL
);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    config     TEXT    NOT NULL DEFAULT '{}',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE queues (
    channel_id                INTEGER PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    mode                      TEXT    NOT NULL DEFAULT 'evenly',
    forward_interval_secs     INTEGER NOT NULL DEFAULT 180,
    unanswered_interval_secs  INTEGER NOT NULL DEFAULT 600
);

CREATE TABLE queue_agents (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX queue_agents_user ON queue_agents (user_id);

CREATE TABLE channel_supervisors (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_supervisors_user ON channel_supervisors (user_id);

CREATE TABLE contacts (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    email               TEXT,
    phone               TEXT,
    responsible_user_id INTEGER REFERENCES users (id),
    created_at          INTEGER NOT NULL
);
CREATE INDEX contacts_email ON contacts (email);
CREATE INDEX contacts_phone ON contacts (phone);

CREATE TABLE contact_identities (
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id TEXT    NOT NULL,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL REFERENCES contacts (id),
    chat_id         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    agent_id        INTEGER REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL
);
-- At most one open session per chat (S2): the ingest path relies on it.
CREATE UNIQUE INDEX sessions_open_chat ON sessions (channel_id, chat_id) WHERE state <> 'closed';
CREATE INDEX sessions_channel_state ON sessions (channel_id, state);
CREATE INDEX sessions_agent ON sessions (agent_id);

CREATE TABLE session_events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    cause      TEXT    NOT NULL,
    actor_id   INTEGER REFERENCES users (id),
    at         INTEGER NOT NULL
);
CREATE INDEX session_events_session ON session_events (session_id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    author_id   INTEGER REFERENCES users (id),
    external_id TEXT,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX messages_session ON messages (session_id, id);
-- A provider's retry is answered from here (S3).
CREATE INDEX messages_external ON messages (channel_id, external_id);

-- S3: one row per (channel, external message id) ever accepted. It is claimed
-- before anything else of the message is written, so a retry, or another node
-- racing with the same message, stores nothing twice.
CREATE TABLE inbound_keys (
    channel_id  INTEGER NOT NULL,
    external_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE timers (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    session_id INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id),
    due_at     INTEGER NOT NULL,
    payload    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    actor_id  INTEGER REFERENCES users (id),
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT '{}',
    at        INTEGER NOT NULL
);
