-- Auto-action scripts (A1–A5, W2, Q1, Q2), canned responses (A6) and ratings (Q1–Q3).

-- Every saved version is kept (P4: who and when); the newest per hook runs.
-- A NULL source is a reset to the built-in default.
CREATE TABLE scripts (
    id       INTEGER PRIMARY KEY,
    hook     TEXT    NOT NULL,
    source   TEXT,
    saved_by INTEGER REFERENCES users (id),
    saved_at INTEGER NOT NULL
);
CREATE INDEX scripts_hook ON scripts (hook, id);

-- A6: the channel's canned-response lists, as validated JSON.
CREATE TABLE canned_responses (
    channel_id INTEGER PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    lists      TEXT    NOT NULL
);

-- Q1–Q3: one rating per session and rater (the customer, or a supervisor).
CREATE TABLE ratings (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rater      TEXT    NOT NULL,
    score      INTEGER NOT NULL,
    comment    TEXT,
    rated_by   INTEGER REFERENCES users (id),
    at         INTEGER NOT NULL,
    PRIMARY KEY (session_id, rater)
);
