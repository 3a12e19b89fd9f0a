-- C1: a contact whose email, phone and name are only the customer's claim
-- (a widget visitor's pre-chat form, a connector that cannot vouch for its
-- senders). Such a contact is never matched automatically: agents see it
-- as unverified, with the known contact it may be, and merge by hand.
ALTER TABLE contacts ADD COLUMN unverified BOOLEAN NOT NULL DEFAULT FALSE;
