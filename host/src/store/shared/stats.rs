//! Statistics (O6) and a contact's sessions (O2), over the summary columns of
//! migration 0012 and the rollups of migration 0021.
//!
//! Counts come from `stats_days` for the whole days of the range and from the
//! session rows for its partial days (see `store/stats_rollup.rs`); so do the
//! histograms of each duration. The median and p90 are exact: the histogram
//! names the bucket holding the value at rank k, and the value is read along
//! the duration's index (0012, ascending per channel and per agent) inside
//! that bucket's bounds with `ORDER BY d LIMIT .. OFFSET`, so only that
//! bucket's index entries are walked. SQLite is told the index (`INDEXED
//! BY`), since without statistics it would rather sort; PostgreSQL's planner
//! picks it by itself.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::*;
use crate::store::stats_rollup::{EdgeRow, Histogram, Lookup, Split, Tally};

/// The values of one duration `d` inside a bucket, in ascending order, from
/// `LIMIT $4 OFFSET $5`: `$1` channel, `[$2, $3)` creation time, `[$6, $7)`
/// the bucket, then the group's condition; `present` is the column that is
/// set once the duration is known, `index` the index to read it along.
fn duration_sql(d: &str, present: &str, index: &str, group: &str) -> String {
    let hint = index_hint(index);
    format!(
        "SELECT {d} FROM sessions{hint} WHERE channel_id = $1{group} AND {present} IS NOT NULL \
         AND {d} >= $6 AND {d} < $7 AND created_at >= $2 AND created_at < $3 ORDER BY {d} \
         LIMIT $4 OFFSET $5"
    )
}

/// The three groupings of one duration: channel, one agent (`$8`), nobody.
fn duration_sqls(d: &str, present: &str, index: &str, agent_index: &str) -> [String; 3] {
    [
        duration_sql(d, present, index, ""),
        duration_sql(d, present, agent_index, " AND agent_id = $8"),
        duration_sql(d, present, agent_index, " AND agent_id IS NULL"),
    ]
}

/// First-response and resolution SQL, for [`Group::All`], an agent, nobody.
static FIRST_RESPONSE_SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
    duration_sqls(
        "first_response_at - first_in_at",
        "first_response_at",
        "sessions_stats_response",
        "sessions_stats_response_agent",
    )
});
static RESOLUTION_SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
    duration_sqls(
        "closed_at - created_at",
        "closed_at",
        "sessions_stats_resolution",
        "sessions_stats_resolution_agent",
    )
});

/// The partial days' session rows of a channel: `$1` channel, `[$2, $3)`
/// creation time.
static EDGE_ROWS: LazyLock<String> = LazyLock::new(|| {
    let hint = index_hint("sessions_stats_created");
    format!(
        "SELECT agent_id, unanswered_at IS NOT NULL AS unanswered, \
         first_response_at IS NOT NULL AS answered, closed_at IS NOT NULL AS closed, \
         first_response_at - first_in_at AS response_ms, \
         closed_at - created_at AS resolution_ms, \
         customer_score, supervisor_score FROM sessions{hint} \
         WHERE channel_id = $1 AND created_at >= $2 AND created_at < $3"
    )
});

/// A contact's sessions the viewer may see (O2, P2), newest first: `$1`
/// contact, `$2` before, `$3` sees all, `$4` viewer, `$5` limit.
static CONTACT_SESSIONS: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$4");
    format!(
        "SELECT * FROM sessions WHERE contact_id = $1 AND ($2 IS NULL OR id < $2) \
         AND ($3 OR agent_id = $4 OR channel_id IN {visible}) ORDER BY id DESC LIMIT $5"
    )
});

/// The rollups' `agent_key` of sessions no agent held.
const NOBODY: i64 = 0;

impl Backend {
    /// Every group's tally over the range: whole days from the rollups,
    /// partial days from the rows; by `agent_key`.
    async fn tallies(&self, query: &StatsQuery) -> Result<BTreeMap<i64, Tally>> {
        let split = Split::of(query.from, query.to);
        let mut tallies: BTreeMap<i64, Tally> = BTreeMap::new();
        if let Some((first, end)) = split.days {
            let counts = sqlx::query_as::<_, Aggregate>(
                "SELECT NULLIF(agent_key, 0) AS agent_id, \
                 CAST(SUM(sessions) AS BIGINT) AS sessions, CAST(SUM(unanswered) AS BIGINT) AS unanswered, \
                 CAST(SUM(answered) AS BIGINT) AS answered, CAST(SUM(closed) AS BIGINT) AS closed, \
                 CAST(SUM(customer_count) AS BIGINT) AS customer_count, \
                 CAST(SUM(customer_sum) AS BIGINT) AS customer_sum, \
                 CAST(SUM(supervisor_count) AS BIGINT) AS supervisor_count, \
                 CAST(SUM(supervisor_sum) AS BIGINT) AS supervisor_sum \
                 FROM stats_days WHERE channel_id = $1 AND day >= $2 AND day < $3 \
                 GROUP BY agent_key",
            )
            .bind(query.channel_id)
            .bind(first)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
            for c in counts {
                tallies
                    .entry(c.agent_id.unwrap_or(NOBODY))
                    .or_default()
                    .counts = c;
            }
            let buckets = sqlx::query_as::<_, (i64, i64, i64, i64)>(
                "SELECT metric, agent_key, bucket, CAST(SUM(sessions) AS BIGINT) \
                 FROM stats_durations WHERE channel_id = $1 AND metric IN (1, 2) \
                 AND day >= $2 AND day < $3 GROUP BY metric, agent_key, bucket",
            )
            .bind(query.channel_id)
            .bind(first)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
            for (metric, agent, bucket, n) in buckets {
                let tally = tallies.entry(agent).or_default();
                let hist = if metric == 1 {
                    &mut tally.response
                } else {
                    &mut tally.resolution
                };
                hist.add(bucket, n);
            }
        }
        for (from, to) in split.edges {
            let rows = sqlx::query_as::<_, EdgeRow>(EDGE_ROWS.as_str())
                .bind(query.channel_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.read)
                .await?;
            for row in &rows {
                tallies
                    .entry(row.agent_id.unwrap_or(NOBODY))
                    .or_default()
                    .add_row(row);
            }
        }
        Ok(tallies)
    }

    /// The values of one duration that `lookup` names.
    async fn bucket_values(
        &self,
        sqls: &'static [String; 3],
        query: &StatsQuery,
        group: Group,
        lookup: &Lookup,
    ) -> Result<Vec<i64>> {
        let sql = match group {
            Group::All => sqls[0].as_str(),
            Group::Agent(_) => sqls[1].as_str(),
            Group::Nobody => sqls[2].as_str(),
        };
        let mut q = sqlx::query_as::<_, (i64,)>(sql)
            .bind(query.channel_id)
            .bind(query.from)
            .bind(query.to)
            .bind(lookup.len)
            .bind(lookup.offset)
            .bind(lookup.lo)
            .bind(lookup.hi);
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
        sqls: &'static [String; 3],
        query: &StatsQuery,
        group: Group,
        count: i64,
        hist: &Histogram,
    ) -> Result<Durations> {
        if count == 0 {
            return Ok(Durations::default());
        }
        let (lo, two, p90) = ranks(count);
        let wanted = if two {
            vec![lo, lo + 1, p90]
        } else {
            vec![lo, p90]
        };
        let mut at = BTreeMap::new();
        for lookup in hist.lookups(&wanted) {
            let values = self.bucket_values(sqls, query, group, &lookup).await?;
            at.extend((lookup.first_rank..).zip(values));
        }
        if let Some(missing) = wanted.iter().find(|rank| !at.contains_key(rank)) {
            return Err(StoreError::Invalid(format!(
                "the statistics rollups of channel {} disagree with its sessions (no value at rank {missing} of {count}); \
                 migration 0021's triggers keep them equal, so the database was changed around them",
                query.channel_id
            )));
        }
        let middle: Vec<i64> = wanted[..wanted.len() - 1].iter().map(|r| at[r]).collect();
        Ok(durations(count, &middle, Some(at[&p90])))
    }

    async fn row_of(&self, query: &StatsQuery, tally: &Tally, group: Group) -> Result<StatsRow> {
        let mut row = tally.counts.row();
        row.first_response = self
            .group_durations(
                &FIRST_RESPONSE_SQL,
                query,
                group,
                tally.counts.answered,
                &tally.response,
            )
            .await?;
        row.resolution = self
            .group_durations(
                &RESOLUTION_SQL,
                query,
                group,
                tally.counts.closed,
                &tally.resolution,
            )
            .await?;
        Ok(row)
    }
}

#[async_trait::async_trait]
impl crate::store::StatsStore for Backend {
    async fn channel_stats(&self, query: &StatsQuery) -> Result<ChannelStats> {
        let tallies = self.tallies(query).await?;
        let mut all = Tally::default();
        let mut groups = Vec::new();
        for (agent, tally) in &tallies {
            all.merge(tally);
            groups.push(Aggregate {
                agent_id: Some(*agent).filter(|a| *a != NOBODY),
                ..tally.counts
            });
        }
        all.counts = total(&groups);
        let totals = self.row_of(query, &all, Group::All).await?;
        let mut agents = Vec::new();
        for agg in shown(query, &groups) {
            let key = agg.agent_id.unwrap_or(NOBODY);
            // The asked agent may have no tally: their row is all zero.
            let mut tally = tallies.get(&key).cloned().unwrap_or_default();
            tally.counts = agg;
            agents.push(self.row_of(query, &tally, Group::of(agg.agent_id)).await?);
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
        Ok(sqlx::query_as::<_, Session>(CONTACT_SESSIONS.as_str())
            .bind(contact_id)
            .bind(before)
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }
}
