-- People sign in with a name and password (P5); the browser holds a session
-- cookie. A one-time link sets the first admin's password (P6) or another
-- user's. Secrets are stored only as hashes (P2).

ALTER TABLE users ADD COLUMN password_hash TEXT;
-- Consecutive wrong passwords, and until when the next attempt is refused.
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;

CREATE TABLE web_sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- user_id NULL: the first-run link that creates the first admin.
CREATE TABLE setup_links (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
