-- Statistics rollups (issue 20): per channel, UTC day of `created_at` and
-- agent, the counts of the statistics (O6) and a histogram of each duration,
-- so a report reads a few rows per day instead of every session of its range.
-- They are kept by triggers on `sessions` itself: whatever changes a
-- session's summary columns (the triggers of 0012, routing, retention, a
-- deleted channel) moves the session's contribution from its old key to its
-- new one in the same transaction, so the rollups always equal the rows.
-- See docs/statistics.md ("How it is computed"); the SQLite twin is
-- migrations/sqlite/0021_stats_rollups.sql.

-- The histogram buckets, by lower bound in milliseconds: 1 s wide below 8 s,
-- then 8 buckets per doubling (each 1/8 of the octave it starts, whole
-- seconds), up to 2^52 s; negative durations share one bucket (and so
-- would a first response without a first customer message, which the
-- triggers of 0012 never write). The same bounds as `stats_bucket` in
-- host/src/store/stats_rollup.rs (a test checks).
CREATE TABLE stats_buckets (lo BIGINT PRIMARY KEY);
INSERT INTO stats_buckets (lo) VALUES (-9223372036854775808),
    (0), (1000), (2000), (3000), (4000), (5000), (6000), (7000);
INSERT INTO stats_buckets (lo)
    SELECT ((1::BIGINT << e) + j * (1::BIGINT << (e - 3))) * 1000
      FROM generate_series(3, 51) AS e, generate_series(0, 7) AS j;

-- Counts per channel, day (created_at / 86400000) and agent (`agent_key`:
-- `sessions.agent_id`, 0 for sessions no agent held).
CREATE TABLE stats_days (
    channel_id       BIGINT NOT NULL,
    day              BIGINT NOT NULL,
    agent_key        BIGINT NOT NULL,
    sessions         BIGINT NOT NULL,
    unanswered       BIGINT NOT NULL,
    answered         BIGINT NOT NULL,
    closed           BIGINT NOT NULL,
    customer_count   BIGINT NOT NULL,
    customer_sum     BIGINT NOT NULL,
    supervisor_count BIGINT NOT NULL,
    supervisor_sum   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, day, agent_key)
);

-- How many sessions of a channel, day and agent have a duration in a bucket:
-- metric 1 first response (`first_response_at - first_in_at`), metric 2
-- resolution (`closed_at - created_at`).
CREATE TABLE stats_durations (
    channel_id BIGINT NOT NULL,
    metric     BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    agent_key  BIGINT NOT NULL,
    bucket     BIGINT NOT NULL,
    sessions   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, metric, day, agent_key, bucket)
);

-- A report's partial days are read from the rows of the range, in creation
-- order and from this index alone (the grouping index of 0012 is no longer read).
DROP INDEX sessions_stats_agent;
CREATE INDEX sessions_stats_created ON sessions (channel_id, created_at, agent_id, unanswered_at,
    first_in_at, first_response_at, closed_at, customer_score, supervisor_score);

CREATE FUNCTION stats_bucket(d BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT lo FROM stats_buckets WHERE lo <= d ORDER BY lo DESC LIMIT 1),
                    -9223372036854775808)
$$;

-- One session's contribution: `sign` 1 adds it, -1 takes it away.
CREATE FUNCTION stats_change(s sessions, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    -- Not named like the columns, which PL/pgSQL would find ambiguous.
    s_day BIGINT := s.created_at / 86400000;
    s_agent BIGINT := COALESCE(s.agent_id, 0);
BEGIN
    INSERT INTO stats_days AS t (channel_id, day, agent_key, sessions, unanswered, answered, closed,
                                 customer_count, customer_sum, supervisor_count, supervisor_sum)
    VALUES (s.channel_id, s_day, s_agent, sign,
            sign * (s.unanswered_at IS NOT NULL)::INT, sign * (s.first_response_at IS NOT NULL)::INT,
            sign * (s.closed_at IS NOT NULL)::INT,
            sign * (s.customer_score IS NOT NULL)::INT, sign * COALESCE(s.customer_score, 0),
            sign * (s.supervisor_score IS NOT NULL)::INT, sign * COALESCE(s.supervisor_score, 0))
    ON CONFLICT (channel_id, day, agent_key) DO UPDATE SET
        sessions = t.sessions + EXCLUDED.sessions,
        unanswered = t.unanswered + EXCLUDED.unanswered,
        answered = t.answered + EXCLUDED.answered,
        closed = t.closed + EXCLUDED.closed,
        customer_count = t.customer_count + EXCLUDED.customer_count,
        customer_sum = t.customer_sum + EXCLUDED.customer_sum,
        supervisor_count = t.supervisor_count + EXCLUDED.supervisor_count,
        supervisor_sum = t.supervisor_sum + EXCLUDED.supervisor_sum;
    DELETE FROM stats_days AS t
     WHERE t.channel_id = s.channel_id AND t.day = s_day AND t.agent_key = s_agent
       AND t.sessions = 0;

    INSERT INTO stats_durations AS t (channel_id, metric, day, agent_key, bucket, sessions)
    SELECT s.channel_id, m.metric, s_day, s_agent, stats_bucket(m.d), sign
      FROM (SELECT 1 AS metric, s.first_response_at - s.first_in_at AS d
             WHERE s.first_response_at IS NOT NULL
            UNION ALL
            SELECT 2, s.closed_at - s.created_at WHERE s.closed_at IS NOT NULL) AS m
    ON CONFLICT (channel_id, metric, day, agent_key, bucket) DO UPDATE SET
        sessions = t.sessions + EXCLUDED.sessions;
    DELETE FROM stats_durations AS t
     WHERE t.channel_id = s.channel_id AND t.metric IN (1, 2) AND t.day = s_day
       AND t.agent_key = s_agent AND t.sessions = 0;
END $$;

CREATE FUNCTION sessions_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stats_change(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM stats_change(NEW, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_stats AFTER INSERT OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_stats();
-- Only when something the statistics count changes (most updates of a
-- session touch its state and times, not these).
CREATE TRIGGER sessions_stats_update AFTER UPDATE ON sessions FOR EACH ROW
    WHEN (OLD.channel_id IS DISTINCT FROM NEW.channel_id OR OLD.created_at IS DISTINCT FROM NEW.created_at
       OR OLD.agent_id IS DISTINCT FROM NEW.agent_id
       OR (OLD.unanswered_at IS NULL) <> (NEW.unanswered_at IS NULL)
       OR (NEW.first_response_at IS NOT NULL AND OLD.first_in_at IS DISTINCT FROM NEW.first_in_at)
       OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
       OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
       OR OLD.customer_score IS DISTINCT FROM NEW.customer_score
       OR OLD.supervisor_score IS DISTINCT FROM NEW.supervisor_score)
    EXECUTE FUNCTION sessions_stats();

-- The sessions stored before this migration, rolled up once.
INSERT INTO stats_days (channel_id, day, agent_key, sessions, unanswered, answered, closed,
                        customer_count, customer_sum, supervisor_count, supervisor_sum)
SELECT channel_id, created_at / 86400000, COALESCE(agent_id, 0), COUNT(*), COUNT(unanswered_at),
       COUNT(first_response_at), COUNT(closed_at), COUNT(customer_score), COALESCE(SUM(customer_score), 0),
       COUNT(supervisor_score), COALESCE(SUM(supervisor_score), 0)
  FROM sessions GROUP BY 1, 2, 3;
INSERT INTO stats_durations (channel_id, metric, day, agent_key, bucket, sessions)
SELECT channel_id, metric, day, agent_key, stats_bucket(d), COUNT(*)
  FROM (SELECT channel_id, 1 AS metric, created_at / 86400000 AS day, COALESCE(agent_id, 0) AS agent_key,
               first_response_at - first_in_at AS d
          FROM sessions WHERE first_response_at IS NOT NULL
        UNION ALL
        SELECT channel_id, 2, created_at / 86400000, COALESCE(agent_id, 0), closed_at - created_at
          FROM sessions WHERE closed_at IS NOT NULL) AS m
 GROUP BY channel_id, metric, day, agent_key, stats_bucket(d);
