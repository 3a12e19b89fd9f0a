-- Attachments of inbound messages, and edits (issue 6).
--
-- Written in the message's own ingest transaction, so a repeated webhook
-- stores none of them twice (S3). The bytes live in the database, so every
-- node serves them; PostgreSQL keeps large `data` values out of the row (TOAST).

-- The provider id of the message this one edits (Telegram's edited_message).
ALTER TABLE messages ADD COLUMN edit_of TEXT;

CREATE TABLE attachments (
    -- 128 random bits, hex: the id in download URLs, unguessable.
    id               TEXT    PRIMARY KEY,
    message_id       BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    session_id       BIGINT  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    channel_id       BIGINT  NOT NULL,
    -- Order within the message.
    position         BIGINT  NOT NULL,
    kind             TEXT    NOT NULL,
    file_name        TEXT,
    -- The provider's declared type until the bytes arrive, then the fetched one.
    mime_type        TEXT,
    -- What the provider said, and what was stored.
    declared_size    BIGINT,
    size             BIGINT,
    -- Where the connector's fetch-attachment export finds it.
    url              TEXT,
    provider_file_id TEXT,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'stored', 'failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    stored_at        BIGINT,
    data             BYTEA
);
CREATE INDEX attachments_message ON attachments (session_id, message_id);
CREATE INDEX attachments_due ON attachments (next_attempt_at) WHERE state = 'pending';
