//! Statistics (O6) and a contact's sessions (O2), over the summary columns of migration 0012.
//!
//! Exact percentiles without sorting the range (SQLite has no percentile
//! function, and a sort or a window over a million rows takes seconds): each
//! duration has an index in ascending order per channel and per agent, the
//! counts come first, and the value at rank k is `ORDER BY d LIMIT .. OFFSET
//! k - 1` along that index. The work is bounded by the index entries of the
//! channel (or agent) skipped, with no temporary B-tree. SQLite is told the
//! index (`INDEXED BY`), since without statistics it would rather sort;
//! PostgreSQL's planner picks it by itself.

use super::*;

/// The values of one duration in ascending order, from `LIMIT $4 OFFSET $5`:
/// `$1` channel, `[$2, $3)` creation time, then the group's condition.
macro_rules! duration_sql {
    ($d:literal, $present:literal, $index:literal, $group:literal) => {
        concat!(
            "SELECT ",
            $d,
            " FROM sessions",
            index_hint!($index),
            " WHERE channel_id = $1",
            $group,
            " AND ",
            $present,
            " IS NOT NULL AND created_at >= $2 AND created_at < $3 ORDER BY ",
            $d,
            " LIMIT $4 OFFSET $5"
        )
    };
}

/// The three groupings of one duration: channel, one agent (`$6`), nobody.
macro_rules! duration_sqls {
    ($d:literal, $present:literal, $index:literal, $agent_index:literal) => {
        [
            duration_sql!($d, $present, $index, ""),
            duration_sql!($d, $present, $agent_index, " AND agent_id = $6"),
            duration_sql!($d, $present, $agent_index, " AND agent_id IS NULL"),
        ]
    };
}

/// First-response and resolution SQL, for [`Group::All`], an agent, nobody.
const FIRST_RESPONSE_SQL: [&str; 3] = duration_sqls!(
    "first_response_at - first_in_at",
    "first_response_at",
    "sessions_stats_response",
    "sessions_stats_response_agent"
);
const RESOLUTION_SQL: [&str; 3] = duration_sqls!(
    "closed_at - created_at",
    "closed_at",
    "sessions_stats_resolution",
    "sessions_stats_resolution_agent"
);

impl Backend {
    /// `limit` values of one duration from rank `offset + 1` on.
    async fn ranked_values(
        &self,
        sqls: &[&'static str; 3],
        query: &StatsQuery,
        group: Group,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<i64>> {
        let sql = match group {
            Group::All => sqls[0],
            Group::Agent(_) => sqls[1],
            Group::Nobody => sqls[2],
        };
        let mut q = sqlx::query_as::<_, (i64,)>(sql)
            .bind(query.channel_id)
            .bind(query.from)
            .bind(query.to)
            .bind(limit)
            .bind(offset);
        if let Group::Agent(agent) = group {
            q = q.bind(agent);
        }
        Ok(q.fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|(v,)| v)
            .collect())
    }

    /// Median and p90 of `count` values of one duration of a group.
    async fn group_durations(
        &self,
        sqls: &[&'static str; 3],
        query: &StatsQuery,
        group: Group,
        count: i64,
    ) -> Result<Durations> {
        if count == 0 {
            return Ok(Durations::default());
        }
        let (lo, two, p90) = ranks(count);
        let middle = self
            .ranked_values(sqls, query, group, if two { 2 } else { 1 }, lo - 1)
            .await?;
        let p90 = self.ranked_values(sqls, query, group, 1, p90 - 1).await?;
        Ok(durations(count, &middle, p90.first().copied()))
    }

    async fn row_of(&self, query: &StatsQuery, agg: &Aggregate, group: Group) -> Result<StatsRow> {
        let mut row = agg.row();
        row.first_response = self
            .group_durations(&FIRST_RESPONSE_SQL, query, group, agg.answered)
            .await?;
        row.resolution = self
            .group_durations(&RESOLUTION_SQL, query, group, agg.closed)
            .await?;
        Ok(row)
    }
}

#[async_trait::async_trait]
impl crate::store::StatsStore for Backend {
    async fn channel_stats(&self, query: &StatsQuery) -> Result<ChannelStats> {
        // In agent order along the index: no sort, whatever the range.
        let groups = sqlx::query_as::<_, Aggregate>(concat!(
            "SELECT agent_id, COUNT(*) AS sessions, COUNT(unanswered_at) AS unanswered, \
             COUNT(first_response_at) AS answered, COUNT(closed_at) AS closed, \
             COUNT(customer_score) AS customer_count, \
             COALESCE(CAST(SUM(customer_score) AS BIGINT), 0) AS customer_sum, \
             COUNT(supervisor_score) AS supervisor_count, \
             COALESCE(CAST(SUM(supervisor_score) AS BIGINT), 0) AS supervisor_sum \
             FROM sessions",
            index_hint!("sessions_stats_agent"),
            " WHERE channel_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY agent_id"
        ))
        .bind(query.channel_id)
        .bind(query.from)
        .bind(query.to)
        .fetch_all(&self.read)
        .await?;
        let totals = self.row_of(query, &total(&groups), Group::All).await?;
        let mut agents = Vec::new();
        for agg in shown(query, &groups) {
            agents.push(self.row_of(query, &agg, Group::of(agg.agent_id)).await?);
        }
        Ok(ChannelStats { totals, agents })
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
