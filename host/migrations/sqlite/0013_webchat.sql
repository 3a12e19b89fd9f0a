-- The live-chat widget (issue 7): secrets the server keeps for itself, such
-- as the key that signs visitor tokens. The first node to start creates each
-- one; every node reads the same value, so a token works on all of them.
CREATE TABLE server_secrets (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- A visitor's chat log spans all sessions of their chat, closed ones too
-- (the widget's resume); sessions_open_chat covers open sessions only.
CREATE INDEX sessions_chat ON sessions (channel_id, chat_id);
