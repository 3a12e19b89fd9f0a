//! The routing lease's statements (issue 18), one function each, on the
//! `routing_lease` row of migration 0022. Every time in them is the
//! database's (`now()`), never a node's: nodes' clocks may disagree, the
//! database's is the one all of them read.

use std::time::Duration;

use sqlx::PgPool;

/// The core's acquire ([`frontdesk_cluster::Action::Acquire`]; the exact
/// statement and why it is so are in `host/cluster/src/lib.rs`): takes the
/// lease if it has run out, or if it is already `holder`'s, for `ttl`, and
/// returns its token. A free or run-out lease gets the next token (a new
/// term); `holder`'s own live lease keeps its token unless this process has
/// routed under it (`led`, 0 for never): then a write of that term may still
/// be in flight, and the bump keeps it out. `None`: another node's lease has
/// not run out yet.
pub async fn acquire(
    pool: &PgPool,
    holder: &str,
    led: i64,
    ttl: Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE routing_lease \
         SET token = CASE WHEN holder = $1 AND expires_at >= now() AND token > $2 \
                          THEN token ELSE token + 1 END, \
             holder = $1, expires_at = now() + $3 * interval '1 millisecond' \
         WHERE id = 1 AND (expires_at < now() OR holder = $1) RETURNING token",
    )
    .bind(holder)
    .bind(led)
    .bind(millis(ttl))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(token,)| token))
}

/// Extends `holder`'s lease with `token` to `ttl` from now. `false`: the
/// lease is not that any more (another node took it over): stop routing at
/// once. It also succeeds on a lease that ran out but that nobody took over
/// meanwhile, which is safe: the token did not move, so nobody else wrote.
pub async fn renew(
    pool: &PgPool,
    holder: &str,
    token: i64,
    ttl: Duration,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE routing_lease SET expires_at = now() + $3 * interval '1 millisecond' \
         WHERE id = 1 AND holder = $1 AND token = $2",
    )
    .bind(holder)
    .bind(token)
    .bind(millis(ttl))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends `holder`'s lease with `token` now, if it is still that, so another
/// node takes over at once instead of after the rest of the ttl (a clean
/// shutdown). The token stays: the next holder's is one more.
pub async fn release(pool: &PgPool, holder: &str, token: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE routing_lease SET expires_at = '-infinity' \
         WHERE id = 1 AND holder = $1 AND token = $2",
    )
    .bind(holder)
    .bind(token)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The lease as it stands, for a follower's reason and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub holder: Option<String>,
    pub token: i64,
    /// Whether it has not run out yet, by the database's clock.
    pub live: bool,
}

/// Reads the lease without locking it.
pub async fn standing(pool: &PgPool) -> Result<Standing, sqlx::Error> {
    let (holder, token, live): (Option<String>, i64, bool) =
        sqlx::query_as("SELECT holder, token, expires_at >= now() FROM routing_lease WHERE id = 1")
            .fetch_one(pool)
            .await?;
    Ok(Standing {
        holder,
        token,
        live,
    })
}

/// A ttl in whole milliseconds, for SQL's interval arithmetic.
fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}
