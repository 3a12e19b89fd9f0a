-- API tokens for integrations, several per user, named and revocable (P2),
-- and the optional second factor for people signing in (P5). Secrets are
-- stored only as hashes, except the TOTP secret the server must compute
-- codes from.

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Every user's one token so far moves here and keeps working.
INSERT INTO api_tokens (user_id, name, token_hash, created_at)
    SELECT id, 'created with the user', token_hash, created_at FROM users;
-- users.token_hash stays (NOT NULL UNIQUE; dropping that in SQLite means
-- rebuilding the table every other one refers to) but is never read for
-- access again: it holds a unique value that is no token's hash.
UPDATE users SET token_hash = 'moved:' || id;

-- The TOTP secret (base32) from enrolment on; codes count only once enabled.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
-- The last time step a code was accepted for: a code is never used twice.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
