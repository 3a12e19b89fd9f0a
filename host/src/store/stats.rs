//! Statistics (O6) and the message log by contact (O2): what they return,
//! and the store trait both backends implement (SQL in `sql_stats.rs`).
//!
//! Every figure is computed from stored rows when asked, never from counters
//! kept in memory, so it matches the history exactly. The per-session summary
//! columns it reads (`first_in_at`, `first_response_at`, `closed_at`,
//! `unanswered_at`, scores) are written by triggers in the same transaction
//! as the history rows they summarise (migration 0012).

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Millis, Result, Session, Viewer};

/// What to compute: one channel, sessions created in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsQuery {
    pub channel_id: i64,
    pub from: Millis,
    pub to: Millis,
    /// Only this agent's row (the channel totals still cover every session).
    pub agent_id: Option<i64>,
}

/// Median and 90th percentile of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Durations {
    /// How many sessions have this duration (answered, or closed).
    pub count: i64,
    /// The middle value; with an even count, the mean of the two middle values.
    pub median_ms: Option<f64>,
    /// Nearest rank: the smallest value that at least 90% of values do not exceed.
    pub p90_ms: Option<i64>,
}

/// Ratings of one kind (Q1 customer, Q3 supervisor).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct RatingStats {
    pub count: i64,
    /// Mean score (1 to 5); `None` without ratings.
    pub average: Option<f64>,
}

/// The figures of one group of sessions: a channel, or one agent's sessions in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct StatsRow {
    /// The agent who holds (or last held) the sessions; `None` for the channel
    /// totals, and for the row of sessions no agent ever held.
    pub agent_id: Option<i64>,
    /// Sessions created in the range.
    pub sessions: i64,
    /// Of those, how many R6 marked unanswered.
    pub unanswered: i64,
    /// First customer message to the first agent message after it.
    pub first_response: Durations,
    /// Creation to the move to `closed` (S1), for the sessions closed so far.
    pub resolution: Durations,
    pub customer_rating: RatingStats,
    pub supervisor_rating: RatingStats,
}

/// Statistics of one channel over a time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ChannelStats {
    /// Every session of the channel in the range.
    pub totals: StatsRow,
    /// One row per agent (and one with `agent_id: null` for sessions no agent
    /// held), by agent id; the rows add up to the totals. With an agent
    /// filter, only that agent's row (all zero if they had no sessions).
    pub agents: Vec<StatsRow>,
}

/// Counts and sums per group, as the aggregate query returns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Aggregate {
    pub agent_id: Option<i64>,
    pub sessions: i64,
    pub unanswered: i64,
    pub answered: i64,
    pub closed: i64,
    pub customer_count: i64,
    pub customer_sum: i64,
    pub supervisor_count: i64,
    pub supervisor_sum: i64,
}

impl Aggregate {
    fn add(&mut self, o: &Aggregate) {
        self.sessions += o.sessions;
        self.unanswered += o.unanswered;
        self.answered += o.answered;
        self.closed += o.closed;
        self.customer_count += o.customer_count;
        self.customer_sum += o.customer_sum;
        self.supervisor_count += o.supervisor_count;
        self.supervisor_sum += o.supervisor_sum;
    }

    fn row(&self) -> StatsRow {
        let rating = |count: i64, sum: i64| RatingStats {
            count,
            average: (count > 0).then(|| sum as f64 / count as f64),
        };
        StatsRow {
            agent_id: self.agent_id,
            sessions: self.sessions,
            unanswered: self.unanswered,
            first_response: Durations {
                count: self.answered,
                ..Durations::default()
            },
            resolution: Durations {
                count: self.closed,
                ..Durations::default()
            },
            customer_rating: rating(self.customer_count, self.customer_sum),
            supervisor_rating: rating(self.supervisor_count, self.supervisor_sum),
        }
    }
}

/// One value at a rank the percentiles need, as the percentile query returns
/// it: `total` is 1 for the channel-wide ranking, 0 for an agent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Ranked {
    pub total: i64,
    pub agent_id: Option<i64>,
    /// 1-based position in ascending order.
    pub rn: i64,
    /// How many values the ranking has.
    pub n: i64,
    pub d: i64,
}

/// The ranks the percentile query keeps: both middle ranks (one when `n` is
/// odd) and the p90 nearest rank, ceil(0.9 n). SQL spelling in `sql_stats.rs`.
pub(crate) fn wanted_ranks(n: i64) -> [i64; 3] {
    [(n + 1) / 2, (n + 2) / 2, (9 * n + 9) / 10]
}

/// Median and p90 from the ranked values of one group.
pub(crate) fn durations(count: i64, ranked: &[Ranked]) -> Durations {
    let at = |rank: i64| ranked.iter().find(|r| r.rn == rank).map(|r| r.d);
    let [lo, hi, p90] = wanted_ranks(count);
    let median_ms = match (at(lo), at(hi)) {
        (Some(a), Some(b)) => Some((a as f64 + b as f64) / 2.0),
        _ => None,
    };
    Durations {
        count,
        median_ms,
        p90_ms: at(p90),
    }
}

/// Puts the query results together: totals, and the rows the query asked for.
pub(crate) fn assemble(
    query: &StatsQuery,
    groups: &[Aggregate],
    first_response: &[Ranked],
    resolution: &[Ranked],
) -> ChannelStats {
    let mut total = Aggregate::default();
    for g in groups {
        total.add(g);
    }
    let pick = |ranked: &[Ranked], total: bool, agent: Option<i64>| -> Vec<Ranked> {
        ranked
            .iter()
            .filter(|r| (r.total == 1) == total && (total || r.agent_id == agent))
            .copied()
            .collect()
    };
    let finish = |agg: &Aggregate, is_total: bool| {
        let mut row = agg.row();
        let agent = agg.agent_id;
        row.first_response = durations(agg.answered, &pick(first_response, is_total, agent));
        row.resolution = durations(agg.closed, &pick(resolution, is_total, agent));
        row
    };
    let totals = finish(&total, true);
    let mut agents: Vec<StatsRow> = groups
        .iter()
        .filter(|g| query.agent_id.is_none() || g.agent_id == query.agent_id)
        .map(|g| finish(g, false))
        .collect();
    if let Some(agent) = query.agent_id
        && agents.is_empty()
    {
        agents.push(StatsRow {
            agent_id: Some(agent),
            ..StatsRow::default()
        });
    }
    // By agent id, the sessions nobody held last.
    agents.sort_by_key(|r| (r.agent_id.is_none(), r.agent_id));
    ChannelStats { totals, agents }
}

/// Statistics (O6) and the contact's sessions (O2).
#[async_trait]
pub trait StatsStore: Send + Sync + 'static {
    /// The channel's statistics over a range of session creation times.
    /// Access is the caller's business (the API checks P1 first).
    async fn channel_stats(&self, query: &StatsQuery) -> Result<ChannelStats>;
    /// A contact's sessions the viewer may see (the rule of
    /// [`Store::session`](super::Store::session)), newest first, with ids
    /// below `before` when given.
    async fn contact_sessions(
        &self,
        viewer: Viewer,
        contact_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Session>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(values: &[i64]) -> Vec<Ranked> {
        let n = values.len() as i64;
        values
            .iter()
            .enumerate()
            .map(|(i, &d)| Ranked {
                total: 1,
                agent_id: None,
                rn: i as i64 + 1,
                n,
                d,
            })
            .collect()
    }

    #[test]
    fn o6_median_and_p90_follow_their_definitions() {
        let d = durations(4, &ranked(&[10, 20, 30, 40]));
        assert_eq!((d.median_ms, d.p90_ms), (Some(25.0), Some(40)));
        let d = durations(5, &ranked(&[1, 2, 3, 4, 100]));
        assert_eq!((d.median_ms, d.p90_ms), (Some(3.0), Some(100)));
        let values: Vec<i64> = (1..=10).collect();
        let d = durations(10, &ranked(&values));
        assert_eq!((d.median_ms, d.p90_ms), (Some(5.5), Some(9)));
        let d = durations(1, &ranked(&[7]));
        assert_eq!((d.median_ms, d.p90_ms), (Some(7.0), Some(7)));
        assert_eq!(durations(0, &[]), Durations::default());
    }
}
