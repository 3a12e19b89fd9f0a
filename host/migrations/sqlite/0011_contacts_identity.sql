-- C2: why no lead was created for a session (leads off, a known contact, or
-- a customer who cannot be reached again), for the agent to read.
ALTER TABLE sessions ADD COLUMN lead_note TEXT;
-- I1: what customers see of an agent on channels that show agents' profiles.
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN avatar_url TEXT;
