-- Auto-action scripts belong to a channel (U1). A row with a channel runs
-- for that channel only; a row without one (every script saved before this
-- migration, and those saved through /api/v1/scripts) runs for every channel
-- that has no script of its own for the hook. Existing scripts therefore keep
-- running everywhere they ran, new channels included: nothing is lost.
ALTER TABLE scripts ADD COLUMN channel_id BIGINT REFERENCES channels (id) ON DELETE CASCADE;
CREATE INDEX scripts_channel_hook ON scripts (channel_id, hook, id);
