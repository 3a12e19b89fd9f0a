-- Statistics rollups (issue 20): per channel, UTC day of `created_at` and
-- agent, the counts of the statistics (O6) and a histogram of each duration,
-- so a report reads a few rows per day instead of every session of its range.
-- They are kept by triggers on `sessions` itself: whatever changes a
-- session's summary columns (the triggers of 0012, routing, retention, a
-- deleted channel) moves the session's contribution from its old key to its
-- new one in the same transaction, so the rollups always equal the rows.
-- See docs/statistics.md ("How it is computed").

-- The histogram buckets, by lower bound in milliseconds: 1 s wide below 8 s,
-- then 8 buckets per doubling (each 1/8 of the octave it starts, whole
-- seconds), up to 2^52 s; negative durations share one bucket (and so
-- would a first response without a first customer message, which the
-- triggers of 0012 never write). The same
-- bounds as `stats_bucket` in host/src/store/stats_rollup.rs (a test checks).
-- Each bucket only says where the value at a rank lies; the exact value is
-- then read from the duration's index within that bucket.
CREATE TABLE stats_buckets (lo INTEGER PRIMARY KEY);
INSERT INTO stats_buckets (lo) VALUES (-9223372036854775808),
    (0), (1000), (2000), (3000), (4000), (5000), (6000), (7000);
INSERT INTO stats_buckets (lo)
    WITH RECURSIVE octave(e) AS (SELECT 3 UNION ALL SELECT e + 1 FROM octave WHERE e < 51),
         step(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM step WHERE j < 7)
    SELECT ((1 << e) + j * (1 << (e - 3))) * 1000 FROM octave, step;

-- Counts per channel, day (created_at / 86400000) and agent (`agent_key`:
-- `sessions.agent_id`, 0 for sessions no agent held).
CREATE TABLE stats_days (
    channel_id       INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    agent_key        INTEGER NOT NULL,
    sessions         INTEGER NOT NULL,
    unanswered       INTEGER NOT NULL,
    answered         INTEGER NOT NULL,
    closed           INTEGER NOT NULL,
    customer_count   INTEGER NOT NULL,
    customer_sum     INTEGER NOT NULL,
    supervisor_count INTEGER NOT NULL,
    supervisor_sum   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, day, agent_key)
) WITHOUT ROWID;

-- How many sessions of a channel, day and agent have a duration in a bucket:
-- metric 1 first response (`first_response_at - first_in_at`), metric 2
-- resolution (`closed_at - created_at`).
CREATE TABLE stats_durations (
    channel_id INTEGER NOT NULL,
    metric     INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    agent_key  INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    sessions   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, metric, day, agent_key, bucket)
) WITHOUT ROWID;

-- A report's partial days are read from the rows of the range, in creation
-- order and from this index alone (the grouping index of 0012 is no longer read).
DROP INDEX sessions_stats_agent;
CREATE INDEX sessions_stats_created ON sessions (channel_id, created_at, agent_id, unanswered_at,
    first_in_at, first_response_at, closed_at, customer_score, supervisor_score);

-- One session's contribution (`sign` 1 to add it, -1 to take it away): the
-- sessions triggers below insert into this view, and its trigger applies the
-- change, so adding and removing are written once.
CREATE VIEW stats_change AS
    SELECT channel_id, created_at, agent_id, unanswered_at, first_in_at, first_response_at,
           closed_at, customer_score, supervisor_score, 0 AS sign
      FROM sessions WHERE 0;

CREATE TRIGGER stats_change_apply INSTEAD OF INSERT ON stats_change
BEGIN
    INSERT INTO stats_days (channel_id, day, agent_key, sessions, unanswered, answered, closed,
                            customer_count, customer_sum, supervisor_count, supervisor_sum)
    VALUES (NEW.channel_id, NEW.created_at / 86400000, COALESCE(NEW.agent_id, 0), NEW.sign,
            NEW.sign * (NEW.unanswered_at IS NOT NULL), NEW.sign * (NEW.first_response_at IS NOT NULL),
            NEW.sign * (NEW.closed_at IS NOT NULL),
            NEW.sign * (NEW.customer_score IS NOT NULL), NEW.sign * COALESCE(NEW.customer_score, 0),
            NEW.sign * (NEW.supervisor_score IS NOT NULL), NEW.sign * COALESCE(NEW.supervisor_score, 0))
    ON CONFLICT (channel_id, day, agent_key) DO UPDATE SET
        sessions = sessions + excluded.sessions,
        unanswered = unanswered + excluded.unanswered,
        answered = answered + excluded.answered,
        closed = closed + excluded.closed,
        customer_count = customer_count + excluded.customer_count,
        customer_sum = customer_sum + excluded.customer_sum,
        supervisor_count = supervisor_count + excluded.supervisor_count,
        supervisor_sum = supervisor_sum + excluded.supervisor_sum;
    DELETE FROM stats_days
     WHERE channel_id = NEW.channel_id AND day = NEW.created_at / 86400000
       AND agent_key = COALESCE(NEW.agent_id, 0) AND sessions = 0;

    INSERT INTO stats_durations (channel_id, metric, day, agent_key, bucket, sessions)
    SELECT NEW.channel_id, m.metric, NEW.created_at / 86400000, COALESCE(NEW.agent_id, 0),
           COALESCE((SELECT lo FROM stats_buckets WHERE lo <= m.d ORDER BY lo DESC LIMIT 1),
                    -9223372036854775808), NEW.sign
      FROM (SELECT 1 AS metric, NEW.first_response_at - NEW.first_in_at AS d
             WHERE NEW.first_response_at IS NOT NULL
            UNION ALL
            SELECT 2, NEW.closed_at - NEW.created_at WHERE NEW.closed_at IS NOT NULL) AS m
     WHERE true
    ON CONFLICT (channel_id, metric, day, agent_key, bucket) DO UPDATE SET
        sessions = sessions + excluded.sessions;
    DELETE FROM stats_durations
     WHERE channel_id = NEW.channel_id AND day = NEW.created_at / 86400000
       AND agent_key = COALESCE(NEW.agent_id, 0) AND metric IN (1, 2) AND sessions = 0;
END;

CREATE TRIGGER sessions_stats_insert AFTER INSERT ON sessions
BEGIN
    INSERT INTO stats_change VALUES (NEW.channel_id, NEW.created_at, NEW.agent_id, NEW.unanswered_at,
        NEW.first_in_at, NEW.first_response_at, NEW.closed_at, NEW.customer_score, NEW.supervisor_score, 1);
END;

CREATE TRIGGER sessions_stats_delete AFTER DELETE ON sessions
BEGIN
    INSERT INTO stats_change VALUES (OLD.channel_id, OLD.created_at, OLD.agent_id, OLD.unanswered_at,
        OLD.first_in_at, OLD.first_response_at, OLD.closed_at, OLD.customer_score, OLD.supervisor_score, -1);
END;

-- Only when something the statistics count changes (most updates of a
-- session touch its state and times, not these).
CREATE TRIGGER sessions_stats_update AFTER UPDATE OF channel_id, created_at, agent_id, unanswered_at,
    first_in_at, first_response_at, closed_at, customer_score, supervisor_score ON sessions
WHEN OLD.channel_id IS NOT NEW.channel_id OR OLD.created_at IS NOT NEW.created_at
  OR OLD.agent_id IS NOT NEW.agent_id
  OR (OLD.unanswered_at IS NULL) <> (NEW.unanswered_at IS NULL)
  OR (NEW.first_response_at IS NOT NULL AND OLD.first_in_at IS NOT NEW.first_in_at)
  OR OLD.first_response_at IS NOT NEW.first_response_at OR OLD.closed_at IS NOT NEW.closed_at
  OR OLD.customer_score IS NOT NEW.customer_score OR OLD.supervisor_score IS NOT NEW.supervisor_score
BEGIN
    INSERT INTO stats_change VALUES (OLD.channel_id, OLD.created_at, OLD.agent_id, OLD.unanswered_at,
        OLD.first_in_at, OLD.first_response_at, OLD.closed_at, OLD.customer_score, OLD.supervisor_score, -1);
    INSERT INTO stats_change VALUES (NEW.channel_id, NEW.created_at, NEW.agent_id, NEW.unanswered_at,
        NEW.first_in_at, NEW.first_response_at, NEW.closed_at, NEW.customer_score, NEW.supervisor_score, 1);
END;

-- The sessions stored before this migration, rolled up once.
INSERT INTO stats_days (channel_id, day, agent_key, sessions, unanswered, answered, closed,
                        customer_count, customer_sum, supervisor_count, supervisor_sum)
SELECT channel_id, created_at / 86400000, COALESCE(agent_id, 0), COUNT(*), COUNT(unanswered_at),
       COUNT(first_response_at), COUNT(closed_at), COUNT(customer_score), COALESCE(SUM(customer_score), 0),
       COUNT(supervisor_score), COALESCE(SUM(supervisor_score), 0)
  FROM sessions GROUP BY 1, 2, 3;
INSERT INTO stats_durations (channel_id, metric, day, agent_key, bucket, sessions)
SELECT channel_id, metric, day, agent_key,
       COALESCE((SELECT lo FROM stats_buckets WHERE lo <= d ORDER BY lo DESC LIMIT 1),
                -9223372036854775808) AS bucket, COUNT(*)
  FROM (SELECT channel_id, 1 AS metric, created_at / 86400000 AS day, COALESCE(agent_id, 0) AS agent_key,
               first_response_at - first_in_at AS d
          FROM sessions WHERE first_response_at IS NOT NULL
        UNION ALL
        SELECT channel_id, 2, created_at / 86400000, COALESCE(agent_id, 0), closed_at - created_at
          FROM sessions WHERE closed_at IS NOT NULL)
 GROUP BY channel_id, metric, day, agent_key, bucket;
