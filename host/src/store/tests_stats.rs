//! O6 and issue 20: the statistics the store reads from the rollups of
//! migration 0021 equal figures computed here independently, by sorting the
//! session rows of the range, for seeded random histories (many days,
//! channels and agents; sessions crossing midnight, reassigned, reopened,
//! moved, rated twice, turned into retention stubs, deleted) and many random
//! ranges, on SQLite and PostgreSQL, and after migrating old data.

use std::sync::Arc;

use sqlx::{PgPool, SqlitePool};

use super::stats_rollup::{DAY, all_buckets};
use super::{ChannelStats, Durations, RatingStats, StatsQuery, StatsRow, Store};
use crate::test_support::{sqlite_store, with_postgres_url};

const SEC: i64 = 1000;
/// The first day of the histories: 2026-11-01 00:00 UTC.
const START: i64 = 20_393 * DAY;
const DAYS: i64 = 30;
const CHANNELS: i64 = 3;
/// Users 1-6; 1 is an admin, 2-6 agents.
const AGENTS: i64 = 5;

/// splitmix64: a seeded, reproducible sequence without a dependency's API.
struct Rng(u64);

impl Rng {
    fn step(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In `[0, n)`.
    fn below(&mut self, n: i64) -> i64 {
        (self.step() % n as u64) as i64
    }
    fn percent(&mut self, p: i64) -> bool {
        self.below(100) < p
    }
}

/// Raw SQL on the store's database, for seeding and for the reference.
enum Raw {
    Lite(SqlitePool),
    Pg(PgPool),
}

/// A session's statistics columns, as the reference reads them.
type Columns = (
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const COLUMNS: &str = "SELECT agent_id, created_at, unanswered_at, first_in_at, first_response_at, \
     closed_at, customer_score, supervisor_score FROM sessions WHERE channel_id = ";

impl Raw {
    /// Runs `statements` in one transaction.
    async fn run(&self, statements: &[String]) {
        let sql = format!("BEGIN;\n{};\nCOMMIT;", statements.join(";\n"));
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        match self {
            Raw::Lite(pool) => sql.execute(pool).await.map(drop),
            Raw::Pg(pool) => sql.execute(pool).await.map(drop),
        }
        .unwrap();
    }

    async fn sessions(&self, channel: i64) -> Vec<Columns> {
        let sql = sqlx::AssertSqlSafe(format!("{COLUMNS}{channel}"));
        match self {
            Raw::Lite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
            Raw::Pg(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        }
        .unwrap()
    }

    async fn buckets(&self) -> Vec<i64> {
        let sql = "SELECT lo FROM stats_buckets ORDER BY lo";
        let rows: Vec<(i64,)> = match self {
            Raw::Lite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
            Raw::Pg(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        }
        .unwrap();
        rows.into_iter().map(|(lo,)| lo).collect()
    }
}

/// Users, channels and contacts the sessions refer to.
fn people() -> Vec<String> {
    let mut s = vec![
        "INSERT INTO users (id, name, role, token_hash, created_at) VALUES (1, 'ada', 'admin', 'h1', 0)"
            .to_string(),
    ];
    for a in 2..=AGENTS + 1 {
        s.push(format!(
            "INSERT INTO users (id, name, role, token_hash, created_at) VALUES ({a}, 'agent{a}', 'agent', 'h{a}', 0)"
        ));
    }
    for c in 1..=CHANNELS {
        s.push(format!(
            "INSERT INTO channels (id, name, kind, secret, created_at) VALUES ({c}, 'c{c}', 'api', 's', 0)"
        ));
        s.push(format!("INSERT INTO queues (channel_id) VALUES ({c})"));
    }
    s.push("INSERT INTO contacts (id, name, created_at) VALUES (1, 'mia', 0)".into());
    s
}

fn agent(rng: &mut Rng) -> String {
    if rng.percent(20) {
        "NULL".into()
    } else {
        (2 + rng.below(AGENTS)).to_string()
    }
}

/// Sessions `ids`, with the history the triggers of 0012 summarise: first
/// messages, agent replies (some by bots, without an author), closes (some
/// crossing midnight, a few before creation), ratings, R6 marks.
fn history(rng: &mut Rng, ids: std::ops::Range<i64>) -> Vec<String> {
    let mut s = Vec::new();
    for id in ids {
        let channel = 1 + rng.below(CHANNELS);
        // Clustered near midnight often, so partial days matter.
        let at = START
            + rng.below(DAYS) * DAY
            + (rng.below(2 * 3600) - 3600) * SEC
            + if rng.percent(50) { rng.below(DAY) } else { 0 };
        let at = at.max(START);
        s.push(format!(
            "INSERT INTO sessions (id, channel_id, contact_id, chat_id, source, state, agent_id, created_at, updated_at, last_message_at) \
             VALUES ({id}, {channel}, 1, 'chat-{id}', 'api', 'closed', {}, {at}, {at}, {at})",
            agent(rng)
        ));
        if rng.percent(95) {
            s.push(format!(
                "INSERT INTO messages (session_id, channel_id, direction, body, created_at) VALUES ({id}, {channel}, 'in', 'hi', {at})"
            ));
        }
        for _ in 0..rng.below(3) {
            // Seconds and milliseconds, short and long, sometimes ties.
            let after = match rng.below(3) {
                0 => rng.below(20) * SEC,
                1 => rng.below(600_000),
                _ => rng.below(3 * DAY),
            };
            let author = if rng.percent(80) {
                (2 + rng.below(AGENTS)).to_string()
            } else {
                "NULL".into()
            };
            s.push(format!(
                "INSERT INTO messages (session_id, channel_id, direction, author_id, body, created_at) \
                 VALUES ({id}, {channel}, 'out', {author}, 'yo', {})",
                at + after
            ));
        }
        // Closed, then (some) reopened and closed again: only the first close counts.
        for _ in 0..rng.below(3) {
            let close = at + rng.below(2 * DAY) - if rng.percent(3) { 5 * SEC } else { 0 };
            s.push(format!(
                "INSERT INTO session_events (session_id, from_state, to_state, cause, at) VALUES ({id}, 'answered', 'closed', 'closed_by_agent', {close})"
            ));
        }
        for rater in ["customer", "supervisor"] {
            if rng.percent(30) {
                s.push(format!(
                    "INSERT INTO ratings (session_id, rater, score, at) VALUES ({id}, '{rater}', {}, {at})",
                    1 + rng.below(5)
                ));
            }
        }
        if rng.percent(15) {
            s.push(format!(
                "UPDATE sessions SET unanswered_at = {} WHERE id = {id}",
                at + 60 * SEC
            ));
        }
    }
    s
}

/// Later changes to sessions `ids`: reassigned, moved to another channel,
/// re-dated, re-rated, unmarked, retention stubs, deleted.
fn changes(rng: &mut Rng, ids: std::ops::Range<i64>) -> Vec<String> {
    let mut s = Vec::new();
    for id in ids {
        match rng.below(12) {
            0 => s.push(format!(
                "UPDATE sessions SET agent_id = {} WHERE id = {id}",
                agent(rng)
            )),
            1 => s.push(format!(
                "UPDATE sessions SET channel_id = {} WHERE id = {id}",
                1 + rng.below(CHANNELS)
            )),
            2 => s.push(format!(
                "UPDATE sessions SET created_at = created_at + {} WHERE id = {id}",
                rng.below(DAY)
            )),
            3 => s.push(format!(
                "UPDATE ratings SET score = {} WHERE session_id = {id}",
                1 + rng.below(5)
            )),
            4 => s.push(format!(
                "UPDATE sessions SET unanswered_at = NULL WHERE id = {id}"
            )),
            5 => {
                // What retention leaves (issue 19): the stub and its columns.
                for table in ["messages", "session_events"] {
                    s.push(format!("DELETE FROM {table} WHERE session_id = {id}"));
                }
                s.push(format!(
                    "UPDATE sessions SET chat_id = 'gone-{id}', retained_at = 1 WHERE id = {id}"
                ));
            }
            6 => s.push(format!("DELETE FROM sessions WHERE id = {id}")),
            7 => s.push(format!(
                "UPDATE sessions SET state = 'queued', updated_at = updated_at + 1 WHERE id = {id}"
            )),
            _ => {}
        }
    }
    s
}

/// The figures by definition (docs/statistics.md): the range's sessions,
/// grouped, each duration sorted.
fn reference(rows: &[Columns], query: &StatsQuery) -> ChannelStats {
    let rows: Vec<&Columns> = rows
        .iter()
        .filter(|r| r.1 >= query.from && r.1 < query.to)
        .collect();
    let row_of = |agent_id: Option<i64>, of: &[&&Columns]| {
        let durations = |mut values: Vec<i64>| {
            values.sort_unstable();
            let n = values.len();
            if n == 0 {
                return Durations::default();
            }
            let median = if n % 2 == 1 {
                values[n / 2] as f64
            } else {
                (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
            };
            Durations {
                count: n as i64,
                median_ms: Some(median),
                p90_ms: Some(values[(9 * n).div_ceil(10) - 1]),
            }
        };
        let rating = |scores: Vec<i64>| RatingStats {
            count: scores.len() as i64,
            average: (!scores.is_empty())
                .then(|| scores.iter().sum::<i64>() as f64 / scores.len() as f64),
        };
        StatsRow {
            agent_id,
            sessions: of.len() as i64,
            unanswered: of.iter().filter(|r| r.2.is_some()).count() as i64,
            first_response: durations(
                of.iter()
                    .filter_map(|r| Some(r.4? - r.3.expect("answered after a first message")))
                    .collect(),
            ),
            resolution: durations(of.iter().filter_map(|r| Some(r.5? - r.1)).collect()),
            customer_rating: rating(of.iter().filter_map(|r| r.6).collect()),
            supervisor_rating: rating(of.iter().filter_map(|r| r.7).collect()),
        }
    };
    let all: Vec<&&Columns> = rows.iter().collect();
    let mut agents: Vec<Option<i64>> = rows.iter().map(|r| r.0).collect();
    agents.sort_by_key(|a| (a.is_none(), *a));
    agents.dedup();
    if let Some(only) = query.agent_id {
        agents = vec![Some(only)];
    }
    ChannelStats {
        totals: row_of(None, &all),
        agents: agents
            .into_iter()
            .map(|a| {
                let of: Vec<&&Columns> = rows.iter().filter(|r| r.0 == a).collect();
                row_of(a, &of)
            })
            .collect(),
    }
}

/// A random range: whole days, midnight-crossing, inside one day, beyond the data.
fn range(rng: &mut Rng) -> (i64, i64) {
    let point = |rng: &mut Rng| {
        let day = START + (rng.below(DAYS + 4) - 2) * DAY;
        match rng.below(3) {
            0 => day,
            1 => day + rng.below(DAY),
            _ => day + rng.below(2 * 3600 * SEC) - 3600 * SEC,
        }
    };
    let (a, b) = (point(rng), point(rng));
    match a.cmp(&b) {
        std::cmp::Ordering::Less => (a, b),
        std::cmp::Ordering::Greater => (b, a),
        std::cmp::Ordering::Equal => (a, a + 1),
    }
}

/// The figures of `channels` for `ranges` random ranges equal the reference.
async fn compare(
    store: &Arc<dyn Store>,
    raw: &Raw,
    rng: &mut Rng,
    ranges: usize,
    channels: std::ops::RangeInclusive<i64>,
) {
    for channel in channels {
        let rows = raw.sessions(channel).await;
        for _ in 0..ranges {
            let (from, to) = range(rng);
            let agent_id = rng
                .percent(25)
                .then(|| 2 + rng.below(AGENTS + 1))
                .filter(|a| *a <= AGENTS + 1);
            let query = StatsQuery {
                channel_id: channel,
                from,
                to,
                agent_id,
            };
            let got = store.channel_stats(&query).await.unwrap();
            assert_eq!(got, reference(&rows, &query), "{query:?}");
        }
        // The whole history in one range, too.
        let query = StatsQuery {
            channel_id: channel,
            from: 0,
            to: START + 100 * DAY,
            agent_id: None,
        };
        let got = store.channel_stats(&query).await.unwrap();
        assert_eq!(got, reference(&rows, &query));
        assert!(got.totals.sessions > 50, "a history worth comparing");
    }
}

async fn rollups_equal_rows(store: Arc<dyn Store>, raw: Raw) {
    assert_eq!(raw.buckets().await, all_buckets(), "stats_buckets (0021)");
    let mut rng = Rng(20);
    raw.run(&people()).await;
    raw.run(&history(&mut rng, 1..400)).await;
    compare(&store, &raw, &mut rng, 40, 1..=CHANNELS).await;
    raw.run(&history(&mut rng, 400..700)).await;
    raw.run(&changes(&mut rng, 1..700)).await;
    compare(&store, &raw, &mut rng, 40, 1..=CHANNELS).await;
    // Deleting a channel takes its sessions, and their rollups, with it.
    raw.run(&["DELETE FROM channels WHERE id = 3".to_string()])
        .await;
    compare(&store, &raw, &mut rng, 5, 1..=2).await;
    let gone = StatsQuery {
        channel_id: 3,
        from: 0,
        to: START + 100 * DAY,
        agent_id: None,
    };
    assert_eq!(
        store.channel_stats(&gone).await.unwrap(),
        ChannelStats::default()
    );
}

#[tokio::test]
async fn o6_rollup_figures_equal_the_rows_on_sqlite() {
    let (store, dir) = sqlite_store().await;
    let pool = SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("test.db").display()
    ))
    .await
    .unwrap();
    rollups_equal_rows(store, Raw::Lite(pool)).await;
}

#[tokio::test]
async fn o6_rollup_figures_equal_the_rows_on_postgres() {
    with_postgres_url(|url| async move {
        let store = super::connect(&url).await.unwrap();
        let pool = PgPool::connect(&url).await.unwrap();
        rollups_equal_rows(store, Raw::Pg(pool)).await;
    })
    .await;
}

/// Migration 0021 rolls up the sessions stored before it.
#[tokio::test]
async fn o6_sessions_stored_before_0021_are_rolled_up() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pool) = super::tests_upgrade::migrated_before(dir.path(), 21).await;
    let raw = Raw::Lite(pool);
    let mut rng = Rng(21);
    raw.run(&people()).await;
    raw.run(&history(&mut rng, 1..300)).await;
    raw.run(&changes(&mut rng, 1..300)).await;
    let store = super::connect(&url).await.unwrap();
    compare(&store, &raw, &mut rng, 30, 1..=CHANNELS).await;
}
