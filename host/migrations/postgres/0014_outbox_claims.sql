-- The outbox after a crash (issue 22): an item is claimed alone, just before
-- it is sent, by a node that recognises its own unfinished claims when it
-- starts again (claimed_by survives restarts, claim_token is new in every
-- process). session_id lets the worker keep a chat's replies in order while
-- it sends to different chats side by side.
ALTER TABLE outbox ADD COLUMN session_id BIGINT,
                   ADD COLUMN claimed_by TEXT,
                   ADD COLUMN claim_token TEXT;
UPDATE outbox o SET session_id = m.session_id FROM messages m
 WHERE m.id = o.message_id AND o.state = 'pending';
CREATE INDEX outbox_pending_session ON outbox (session_id, id) WHERE state = 'pending';
CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
