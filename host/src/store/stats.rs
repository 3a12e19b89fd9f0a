//! Statistics (O6) and the message log by contact (O2): what they return,
//! and the store trait both backends implement (SQL in `shared/stats.rs`).
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
    pub(crate) fn add(&mut self, o: &Aggregate) {
        self.sessions += o.sessions;
        self.unanswered += o.unanswered;
        self.answered += o.answered;
        self.closed += o.closed;
        self.customer_count += o.customer_count;
        self.customer_sum += o.customer_sum;
        self.supervisor_count += o.supervisor_count;
        self.supervisor_sum += o.supervisor_sum;
    }

    pub(crate) fn row(&self) -> StatsRow {
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

/// Which sessions a duration query ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// The whole channel.
    All,
    /// One agent's sessions.
    Agent(i64),
    /// The sessions no agent held.
    Nobody,
}

impl Group {
    pub(crate) fn of(agent_id: Option<i64>) -> Group {
        agent_id.map_or(Group::Nobody, Group::Agent)
    }
}

/// Where the median and p90 sit among `n` ascending values (1-based): the
/// first middle rank, whether the median is the mean of it and the next one
/// (even `n`), and the p90 nearest rank, ceil(0.9 n).
pub(crate) fn ranks(n: i64) -> (i64, bool, i64) {
    ((n + 1) / 2, n % 2 == 0, (9 * n + 9) / 10)
}

/// Median and p90 from the values at the ranks [`ranks`] names: `middle`
/// holds the value at the first middle rank and, for an even count, the next.
pub(crate) fn durations(count: i64, middle: &[i64], p90: Option<i64>) -> Durations {
    let (_, two, _) = ranks(count);
    let median_ms = match (middle, two) {
        ([a, b, ..], true) => Some((*a as f64 + *b as f64) / 2.0),
        ([a, ..], false) => Some(*a as f64),
        _ => None,
    };
    Durations {
        count,
        median_ms,
        p90_ms: p90,
    }
}

/// The channel totals: the sum of every group.
pub(crate) fn total(groups: &[Aggregate]) -> Aggregate {
    let mut total = Aggregate::default();
    for g in groups {
        total.add(g);
    }
    total
}

/// The groups the answer shows: every one, or only the asked agent's (all
/// zero if they had no sessions). By agent id, the sessions nobody held last.
pub(crate) fn shown(query: &StatsQuery, groups: &[Aggregate]) -> Vec<Aggregate> {
    let mut shown: Vec<Aggregate> = groups
        .iter()
        .filter(|g| query.agent_id.is_none() || g.agent_id == query.agent_id)
        .copied()
        .collect();
    if let Some(agent) = query.agent_id
        && shown.is_empty()
    {
        shown.push(Aggregate {
            agent_id: Some(agent),
            ..Aggregate::default()
        });
    }
    shown.sort_by_key(|g| (g.agent_id.is_none(), g.agent_id));
    shown
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

    /// What the store does: the values at the ranks, from sorted values.
    fn of(values: &[i64]) -> Durations {
        let n = values.len() as i64;
        if n == 0 {
            return durations(0, &[], None);
        }
        let (lo, two, p90) = ranks(n);
        let at = |rank: i64| values.get(rank as usize - 1).copied();
        let middle: Vec<i64> = [at(lo), if two { at(lo + 1) } else { None }]
            .into_iter()
            .flatten()
            .collect();
        durations(n, &middle, at(p90))
    }

    #[test]
    fn o6_median_and_p90_follow_their_definitions() {
        let d = of(&[10, 20, 30, 40]);
        assert_eq!((d.median_ms, d.p90_ms), (Some(25.0), Some(40)));
        let d = of(&[1, 2, 3, 4, 100]);
        assert_eq!((d.median_ms, d.p90_ms), (Some(3.0), Some(100)));
        let values: Vec<i64> = (1..=10).collect();
        let d = of(&values);
        assert_eq!((d.median_ms, d.p90_ms), (Some(5.5), Some(9)));
        let values: Vec<i64> = (1..=11).collect();
        assert_eq!(of(&values).p90_ms, Some(10));
        let d = of(&[7]);
        assert_eq!((d.median_ms, d.p90_ms), (Some(7.0), Some(7)));
        assert_eq!(of(&[]), Durations::default());
    }
}
