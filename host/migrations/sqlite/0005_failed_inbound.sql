-- Authentic webhook requests the connector could not parse (a Telegram update
-- in a shape it does not know). Kept raw for admins, because the provider was
-- answered 200: Telegram holds back a chat's later updates while one fails.
CREATE TABLE failed_inbound (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- JSON object of the request headers, credentials redacted.
    headers     TEXT    NOT NULL,
    body        BLOB    NOT NULL,
    reason      TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX failed_inbound_by_channel ON failed_inbound (channel_id, id);
