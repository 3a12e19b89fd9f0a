-- Chat bots (B1): which bot gets a channel's new sessions, each bot
-- conversation's progress and timers, and the leads bots create (C2, C3).

-- B1: the bot a channel's new sessions go to first. `config` is the bot's own
-- channel config, checked against its manifest's schema when saved.
CREATE TABLE channel_bots (
    channel_id   INTEGER PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    plugin       TEXT    NOT NULL,
    timeout_secs INTEGER NOT NULL,
    config       TEXT    NOT NULL DEFAULT '{}',
    updated_at   INTEGER NOT NULL
);

-- One row per session a bot had. `status`: `active` (the bot holds it),
-- `leaving` (the bot chose a routing move, `exit`, not yet applied: a restart
-- applies it again, so a handover is never lost), `done`.
-- `seen_message` is the last inbound message the bot saw; messages after it are
-- still to be handed to the bot, so nothing queues in memory only.
CREATE TABLE bot_sessions (
    session_id      INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL,
    plugin          TEXT    NOT NULL,
    timeout_secs    INTEGER NOT NULL,
    config          TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'leaving', 'done')),
    started         INTEGER NOT NULL DEFAULT 0,
    seen_message    INTEGER NOT NULL DEFAULT 0,
    pending_field   TEXT,
    pending_options TEXT    NOT NULL DEFAULT '[]',
    ask_after       INTEGER NOT NULL DEFAULT 0,
    data            TEXT    NOT NULL DEFAULT '{}',
    note            TEXT,
    exit            TEXT,
    reason          TEXT,
    due_at          INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX bot_sessions_due ON bot_sessions (status, due_at);

-- Timers a bot set with `set-timer`, one per session and name.
CREATE TABLE bot_timers (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    PRIMARY KEY (session_id, name)
);
CREATE INDEX bot_timers_due ON bot_timers (due_at);

-- C2, C3: a minimal lead (issue 10 extends it with agent-created leads and the
-- message log). `source` is the network the customer wrote from.
CREATE TABLE leads (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    source     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX leads_session ON leads (session_id);
CREATE INDEX leads_contact ON leads (contact_id);
