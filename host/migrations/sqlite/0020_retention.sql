-- Retention (issue 19): a closed session older than its channel's
-- `retention_days` loses its messages, attachments, events, ratings' comments
-- and bot data, and stays as a stub with its timing and score columns, so the
-- statistics of its period (computed from those columns, see
-- docs/statistics.md) stay the same. `retained_at` marks such a stub.
ALTER TABLE sessions ADD COLUMN retained_at INTEGER;

-- The retention worker's scan: a channel's closed, not yet retained sessions
-- by age, so each batch reads only what it removes.
CREATE INDEX sessions_retention ON sessions (channel_id, last_message_at)
    WHERE retained_at IS NULL AND state = 'closed';
