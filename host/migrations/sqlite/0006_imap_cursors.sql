-- Email (issue 6): how far the IMAP poller has read each mailbox. A mailbox's
-- UIDs are only meaningful with its UIDVALIDITY; when that changes the
-- poller starts again from the beginning (stored mail dedupes on Message-ID).
CREATE TABLE imap_cursors (
    channel_id   INTEGER NOT NULL,
    mailbox      TEXT    NOT NULL,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, mailbox)
);
