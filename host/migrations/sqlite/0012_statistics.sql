-- Statistics (O6): each session carries a summary of its own history, kept by
-- triggers in the transaction that writes the history row, so the summary can
-- never disagree with the messages, events and ratings it is derived from.
-- The statistics query then reads indexes of `sessions` instead of joining
-- three large tables per session.

-- R6: when the session was marked unanswered (written by the routing step).
ALTER TABLE sessions ADD COLUMN unanswered_at INTEGER;
-- The first customer message.
ALTER TABLE sessions ADD COLUMN first_in_at INTEGER;
-- The first agent message (an `out` message with an author) at or after the
-- first customer message; notices and bot replies have no author.
ALTER TABLE sessions ADD COLUMN first_response_at INTEGER;
-- The first move to `closed` (S1).
ALTER TABLE sessions ADD COLUMN closed_at INTEGER;
-- Q1–Q3: the current customer and supervisor scores.
ALTER TABLE sessions ADD COLUMN customer_score INTEGER;
ALTER TABLE sessions ADD COLUMN supervisor_score INTEGER;

-- The statistics query reads only these (see host/src/store/sql_stats.rs):
-- counts per agent in agent order (no sort), and each duration in ascending
-- order per channel and per agent, so an exact median or p90 is an OFFSET
-- into an index instead of a sort of every session in the range.
-- Covering: the counts read no table rows (1,000,000 row lookups cost
-- seconds where the index walk costs a tenth of one).
CREATE INDEX sessions_stats_agent ON sessions (channel_id, agent_id, created_at, unanswered_at,
    first_response_at, closed_at, customer_score, supervisor_score);
CREATE INDEX sessions_stats_response ON sessions (channel_id, (first_response_at - first_in_at), created_at)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX sessions_stats_response_agent ON sessions (channel_id, agent_id, (first_response_at - first_in_at), created_at)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX sessions_stats_resolution ON sessions (channel_id, (closed_at - created_at), created_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX sessions_stats_resolution_agent ON sessions (channel_id, agent_id, (closed_at - created_at), created_at)
    WHERE closed_at IS NOT NULL;
-- O2: a contact's sessions, newest first.
CREATE INDEX sessions_contact ON sessions (contact_id, id);

CREATE TRIGGER messages_stats AFTER INSERT ON messages
BEGIN
    UPDATE sessions SET first_in_at = NEW.created_at
     WHERE id = NEW.session_id AND NEW.direction = 'in' AND first_in_at IS NULL;
    UPDATE sessions SET first_response_at = NEW.created_at
     WHERE id = NEW.session_id AND NEW.direction = 'out' AND NEW.author_id IS NOT NULL
       AND first_response_at IS NULL AND first_in_at IS NOT NULL AND NEW.created_at >= first_in_at;
END;

CREATE TRIGGER session_events_stats AFTER INSERT ON session_events WHEN NEW.to_state = 'closed'
BEGIN
    UPDATE sessions SET closed_at = NEW.at WHERE id = NEW.session_id AND closed_at IS NULL;
END;

CREATE TRIGGER ratings_stats_insert AFTER INSERT ON ratings
BEGIN
    UPDATE sessions SET
        customer_score = CASE WHEN NEW.rater = 'customer' THEN NEW.score ELSE customer_score END,
        supervisor_score = CASE WHEN NEW.rater = 'supervisor' THEN NEW.score ELSE supervisor_score END
     WHERE id = NEW.session_id;
END;

CREATE TRIGGER ratings_stats_update AFTER UPDATE OF score ON ratings
BEGIN
    UPDATE sessions SET
        customer_score = CASE WHEN NEW.rater = 'customer' THEN NEW.score ELSE customer_score END,
        supervisor_score = CASE WHEN NEW.rater = 'supervisor' THEN NEW.score ELSE supervisor_score END
     WHERE id = NEW.session_id;
END;

-- The history stored before this migration, summarised once.
UPDATE sessions SET
    first_in_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.session_id = sessions.id AND m.direction = 'in'),
    closed_at = (SELECT MIN(e.at) FROM session_events e WHERE e.session_id = sessions.id AND e.to_state = 'closed'),
    customer_score = (SELECT r.score FROM ratings r WHERE r.session_id = sessions.id AND r.rater = 'customer'),
    supervisor_score = (SELECT r.score FROM ratings r WHERE r.session_id = sessions.id AND r.rater = 'supervisor');
UPDATE sessions SET first_response_at = (
    SELECT MIN(m.created_at) FROM messages m
     WHERE m.session_id = sessions.id AND m.direction = 'out' AND m.author_id IS NOT NULL
       AND m.created_at >= sessions.first_in_at)
 WHERE first_in_at IS NOT NULL;
-- Open sessions already marked unanswered keep the mark (the time of the mark
-- was never stored; their last update is the closest known). Closed sessions'
-- marks were not recorded before this migration.
UPDATE sessions SET unanswered_at = updated_at
 WHERE id IN (SELECT session_id FROM routing_sessions WHERE json_extract(snapshot, '$.unanswered') = 1);
