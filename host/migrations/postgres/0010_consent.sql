-- G1: each contact's answer to the consent notice; a newer answer replaces it.
CREATE TABLE contact_consents (
    contact_id     BIGINT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    -- 1 accepted, 0 declined (an integer in both backends, so one SQL text reads it).
    accepted       BIGINT NOT NULL,
    notice_version BIGINT NOT NULL,
    at             BIGINT NOT NULL
);
