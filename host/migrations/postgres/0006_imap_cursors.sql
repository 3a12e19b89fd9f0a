-- Email (issue 6): how far the IMAP poller has read each mailbox. A mailbox's
-- UIDs are only meaningful with its UIDVALIDITY; when that changes the
-- poller starts again from the beginning (stored mail dedupes on Message-ID).
CREATE TABLE imap_cursors (
    channel_id   BIGINT NOT NULL,
    mailbox      TEXT   NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid     BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, mailbox)
);
