//! Statistics (O6) and a contact's sessions (O2): shared SQL for both
//! backends (see `sql.rs`), over the summary columns of migration 0012.
//!
//! Exact percentiles without a percentile function (SQLite has none): the
//! database ranks the durations with `ROW_NUMBER()` over each agent and over
//! the whole channel, and returns only the rows at the ranks the median and
//! p90 need (see [`wanted_ranks`](super::stats::wanted_ranks)); the sort stays
//! in the database and a million sessions send back a handful of rows.

/// The sessions a statistics query covers: `$1` channel, `[$2, $3)` creation time.
macro_rules! stats_range {
    () => {
        "channel_id = $1 AND created_at >= $2 AND created_at < $3"
    };
}
pub(super) use stats_range;

/// Ranks one duration expression per agent (only agent `$4` when set) and
/// channel-wide; keeps the middle ranks and ceil(0.9 n).
macro_rules! ranked_sql {
    ($d:literal) => {
        concat!(
            "WITH v AS (SELECT agent_id, ",
            $d,
            " AS d FROM sessions WHERE ",
            stats_range!(),
            " AND ",
            $d,
            " IS NOT NULL), \
             r AS (SELECT CAST(0 AS BIGINT) AS total, agent_id, d, \
                     ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY d) AS rn, \
                     COUNT(*) OVER (PARTITION BY agent_id) AS n \
                   FROM v WHERE $4 IS NULL OR agent_id = $4 \
                   UNION ALL \
                   SELECT CAST(1 AS BIGINT), NULL, d, ROW_NUMBER() OVER (ORDER BY d), COUNT(*) OVER () FROM v) \
             SELECT total, agent_id, rn, n, d FROM r \
             WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2 OR rn = (9 * n + 9) / 10"
        )
    };
}
pub(super) use ranked_sql;

macro_rules! sql_stats_store {
    ($Store:ident) => {
        #[async_trait::async_trait]
        impl crate::store::StatsStore for $Store {
            async fn channel_stats(&self, query: &StatsQuery) -> Result<ChannelStats> {
                let groups = sqlx::query_as::<_, Aggregate>(concat!(
                    "SELECT agent_id, COUNT(*) AS sessions, COUNT(unanswered_at) AS unanswered, \
                     COUNT(first_response_at) AS answered, COUNT(closed_at) AS closed, \
                     COUNT(customer_score) AS customer_count, \
                     COALESCE(CAST(SUM(customer_score) AS BIGINT), 0) AS customer_sum, \
                     COUNT(supervisor_score) AS supervisor_count, \
                     COALESCE(CAST(SUM(supervisor_score) AS BIGINT), 0) AS supervisor_sum \
                     FROM sessions WHERE ",
                    stats_range!(),
                    " GROUP BY agent_id"
                ))
                .bind(query.channel_id)
                .bind(query.from)
                .bind(query.to)
                .fetch_all(&self.read)
                .await?;
                let ranked = |sql: &'static str| {
                    sqlx::query_as::<_, Ranked>(sql)
                        .bind(query.channel_id)
                        .bind(query.from)
                        .bind(query.to)
                        .bind(query.agent_id)
                        .fetch_all(&self.read)
                };
                let first_response = ranked(ranked_sql!("first_response_at - first_in_at")).await?;
                let resolution = ranked(ranked_sql!("closed_at - created_at")).await?;
                Ok(assemble(query, &groups, &first_response, &resolution))
            }

            async fn contact_sessions(
                &self,
                viewer: Viewer,
                contact_id: i64,
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<Session>> {
                Ok(sqlx::query_as::<_, Session>(concat!(
                    "SELECT * FROM sessions WHERE contact_id = $1 AND ($2 IS NULL OR id < $2) \
                     AND ($3 OR agent_id = $4 OR channel_id IN ",
                    visible_channels!("$4"),
                    ") ORDER BY id DESC LIMIT $5"
                ))
                .bind(contact_id)
                .bind(before)
                .bind(viewer.sees_all())
                .bind(viewer.user_id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}
pub(super) use sql_stats_store;
