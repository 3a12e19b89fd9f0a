-- G1: each contact's answer to the consent notice; a newer answer replaces it.
CREATE TABLE contact_consents (
    contact_id     INTEGER PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    -- 1 accepted, 0 declined (an integer in both backends, so one SQL text reads it).
    accepted       INTEGER NOT NULL,
    notice_version INTEGER NOT NULL,
    at             INTEGER NOT NULL
);
