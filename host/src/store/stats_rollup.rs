//! Exact statistics (O6) from rollups (issue 20, migration 0021): what part
//! of a range the per-day rollups answer, the histogram buckets of the
//! durations, and where in a bucket the value at a rank lies. Pure; the SQL
//! is in `shared/stats.rs`.
//!
//! A range `[from, to)` splits into whole UTC days, read from `stats_days`
//! and `stats_durations`, and at most two partial days at its edges, read
//! from the session rows. The counts add up exactly. For a median or p90,
//! the merged histogram names the bucket that holds the value at rank k and
//! its rank inside the bucket; the exact value is then read along the
//! duration's index within that bucket's bounds (`ORDER BY d LIMIT .. OFFSET`
//! over that bucket's entries only), so the figures are the ones a sort of
//! the whole range would give.

use std::collections::BTreeMap;

use super::stats::Aggregate;

/// One UTC day in milliseconds: the rollups' unit (`created_at / 86400000`).
pub(crate) const DAY: i64 = 86_400_000;
/// The bucket of negative durations (and of values that are not there).
const NEGATIVE: i64 = i64::MIN;
/// The last bucket's bound: 2^51 + 7 * 2^48 seconds; it takes everything above.
const LAST: i64 = (15 << 48) * 1000;

/// The lower bound (ms) of the histogram bucket of duration `d`: whole
/// seconds below 8 s, then 8 buckets per doubling, each 1/8 of the octave it
/// starts in. Migration 0021 stores the same bounds in `stats_buckets`.
pub(crate) fn stats_bucket(d: Option<i64>) -> i64 {
    let Some(d) = d.filter(|d| *d >= 0) else {
        return NEGATIVE;
    };
    let s = d / 1000;
    if s < 8 {
        return s * 1000;
    }
    let octave = 63 - i64::from(s.leading_zeros());
    if octave > 51 {
        return LAST;
    }
    let width = 1 << (octave - 3);
    (s / width * width * 1000).min(LAST)
}

/// Where the bucket starting at `lo` ends (exclusive).
pub(crate) fn bucket_end(lo: i64) -> i64 {
    match lo {
        NEGATIVE => 0,
        LAST => i64::MAX,
        _ if lo < 8000 => lo + 1000,
        _ => {
            let octave = 63 - i64::from((lo / 1000).leading_zeros());
            lo + (1 << (octave - 3)) * 1000
        }
    }
}

/// Every bucket bound, ascending, as `stats_buckets` holds them.
#[cfg(test)]
pub(crate) fn all_buckets() -> Vec<i64> {
    let mut all = vec![NEGATIVE, 0];
    while *all.last().unwrap() != LAST {
        all.push(bucket_end(*all.last().unwrap()));
    }
    all
}

/// How a range `[from, to)` is read: whole days `[first, end)` from the
/// rollups, the rest (at most two partial days) from the session rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub days: Option<(i64, i64)>,
    pub edges: Vec<(i64, i64)>,
}

impl Split {
    pub(crate) fn of(from: i64, to: i64) -> Split {
        // Day 0 never comes from the rollups: SQL's division truncates, so
        // the rollups' day 0 would also hold the (unreal) negative times.
        let first = (from.div_euclid(DAY) + i64::from(from.rem_euclid(DAY) != 0)).max(1);
        let end = to.div_euclid(DAY);
        if first >= end {
            return Split {
                days: None,
                edges: vec![(from, to)],
            };
        }
        let (start, stop) = (first.saturating_mul(DAY), end.saturating_mul(DAY));
        Split {
            days: Some((first, end)),
            edges: [(from, start), (stop, to)]
                .into_iter()
                .filter(|(a, b)| a < b)
                .collect(),
        }
    }
}

/// Sessions per bucket of one duration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Histogram(BTreeMap<i64, i64>);

/// The values at ranks `first_rank ..` of one group and duration, all in the
/// bucket `[lo, hi)`: `len` of them from the `offset`-th (0-based) value of
/// the range inside that bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lookup {
    pub lo: i64,
    pub hi: i64,
    pub offset: i64,
    pub len: i64,
    pub first_rank: i64,
}

impl Histogram {
    pub(crate) fn add(&mut self, bucket: i64, sessions: i64) {
        *self.0.entry(bucket).or_default() += sessions;
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (bucket, n) in &other.0 {
            self.add(*bucket, *n);
        }
    }

    /// The reads that find the values at `ranks` (1-based, ascending): one
    /// per bucket they fall in. A rank beyond the histogram is left out.
    pub(crate) fn lookups(&self, ranks: &[i64]) -> Vec<Lookup> {
        let mut found: Vec<Lookup> = Vec::new();
        let mut before = 0;
        let mut wanted = ranks.iter().copied().peekable();
        for (&lo, &n) in &self.0 {
            while let Some(rank) = wanted.next_if(|rank| *rank <= before + n) {
                match found.last_mut() {
                    Some(last) if last.lo == lo => last.len = rank - last.first_rank + 1,
                    _ => found.push(Lookup {
                        lo,
                        hi: bucket_end(lo),
                        offset: rank - before - 1,
                        len: 1,
                        first_rank: rank,
                    }),
                }
            }
            before += n;
        }
        found
    }
}

/// One group's counts and duration histograms over a range.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub counts: Aggregate,
    pub response: Histogram,
    pub resolution: Histogram,
}

impl Tally {
    pub(crate) fn merge(&mut self, other: &Tally) {
        self.counts.add(&other.counts);
        self.response.merge(&other.response);
        self.resolution.merge(&other.resolution);
    }
}

/// One session row of a partial day, as the edge query returns it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(crate) struct EdgeRow {
    pub agent_id: Option<i64>,
    pub unanswered: bool,
    pub answered: bool,
    pub closed: bool,
    pub response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub customer_score: Option<i64>,
    pub supervisor_score: Option<i64>,
}

impl Tally {
    /// Counts a session of a partial day in.
    pub(crate) fn add_row(&mut self, row: &EdgeRow) {
        let c = &mut self.counts;
        c.agent_id = row.agent_id;
        c.sessions += 1;
        c.unanswered += i64::from(row.unanswered);
        c.answered += i64::from(row.answered);
        c.closed += i64::from(row.closed);
        c.customer_count += i64::from(row.customer_score.is_some());
        c.customer_sum += row.customer_score.unwrap_or(0);
        c.supervisor_count += i64::from(row.supervisor_score.is_some());
        c.supervisor_sum += row.supervisor_score.unwrap_or(0);
        if row.answered {
            self.response.add(stats_bucket(row.response_ms), 1);
        }
        if row.closed {
            self.resolution.add(stats_bucket(row.resolution_ms), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_and_tile_the_line() {
        let all = all_buckets();
        assert_eq!(all.len(), 1 + 8 + 49 * 8, "the rows migration 0021 inserts");
        for pair in all.windows(2) {
            assert_eq!(bucket_end(pair[0]), pair[1]);
            assert_eq!(stats_bucket(Some(pair[1] - 1)), pair[0]);
            assert_eq!(stats_bucket(Some(pair[1])), pair[1]);
        }
        assert_eq!(stats_bucket(Some(-5)), NEGATIVE);
        assert_eq!(stats_bucket(None), NEGATIVE);
        assert_eq!(stats_bucket(Some(999)), 0);
        assert_eq!(stats_bucket(Some(8_999)), 8_000);
        assert_eq!(stats_bucket(Some(17_999)), 16_000);
        assert_eq!(stats_bucket(Some(18_000)), 18_000);
        assert_eq!(stats_bucket(Some(i64::MAX)), LAST);
    }

    #[test]
    fn a_range_splits_into_whole_days_and_partial_edges() {
        assert_eq!(
            Split::of(3 * DAY, 5 * DAY),
            Split {
                days: Some((3, 5)),
                edges: vec![]
            }
        );
        assert_eq!(
            Split::of(3 * DAY - 1, 5 * DAY + 1),
            Split {
                days: Some((3, 5)),
                edges: vec![(3 * DAY - 1, 3 * DAY), (5 * DAY, 5 * DAY + 1)]
            }
        );
        // No whole day inside: all rows.
        let short = (3 * DAY + 1, 4 * DAY + 5);
        assert_eq!(Split::of(short.0, short.1).edges, vec![short]);
        // Day 0 is read from rows.
        assert_eq!(Split::of(0, 2 * DAY).days, Some((1, 2)));
        assert_eq!(Split::of(-DAY, 2 * DAY).edges, vec![(-DAY, DAY)]);
    }

    #[test]
    fn lookups_find_each_rank_in_its_bucket() {
        let mut h = Histogram::default();
        h.add(0, 2); // ranks 1-2
        h.add(5000, 3); // ranks 3-5
        h.add(16_000, 1); // rank 6
        let at = |ranks: &[i64]| h.lookups(ranks);
        assert_eq!(
            at(&[3, 4, 6]),
            vec![
                Lookup {
                    lo: 5000,
                    hi: 6000,
                    offset: 0,
                    len: 2,
                    first_rank: 3
                },
                Lookup {
                    lo: 16_000,
                    hi: 18_000,
                    offset: 0,
                    len: 1,
                    first_rank: 6
                }
            ]
        );
        assert_eq!(at(&[2, 3])[0].offset, 1);
        assert_eq!(at(&[2, 3]).len(), 2);
        assert_eq!(at(&[5, 5])[0].len, 1);
        assert!(at(&[7]).is_empty());
    }
}
