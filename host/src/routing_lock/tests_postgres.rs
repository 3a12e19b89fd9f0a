//! The routing lease on the machine's PostgreSQL (issue 18): two keepers on
//! one database, driven round by round. A paused node is one whose rounds
//! are not called; waiting for a lease to run out polls the database's
//! clock, which is the one that decides.

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::{ANOTHER_NODE, Keeper, RoutingLease, Settings, sql};
use crate::store::{self, RoutingBatch, StoreError};
use crate::test_support::with_postgres_url;

/// Short enough that a test waits a fraction of a second for a lease to
/// run out.
const FAST: Settings = Settings {
    ttl: Duration::from_millis(300),
    renew_every: Duration::from_millis(100),
    acquire_every: Duration::from_millis(100),
    call_timeout: Duration::from_millis(100),
    margin: Duration::from_millis(50),
};

async fn keeper(url: &str, holder: &str) -> Keeper {
    let pool = PgPool::connect(url).await.expect("connect");
    Keeper::new(pool, holder.into(), FAST, RoutingLease::follower()).expect("FAST is valid")
}

/// Polls the database until the lease has run out by its clock.
async fn until_run_out(pool: &PgPool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sql::standing(pool).await.unwrap().live {
        assert!(Instant::now() < deadline, "the lease never ran out");
        tokio::task::yield_now().await;
    }
}

/// A routing step that sets one timer, under `fence`.
fn timer_row(subject: i64, fence: Option<i64>) -> RoutingBatch {
    let mut batch = RoutingBatch {
        fence,
        ..RoutingBatch::default()
    };
    batch
        .timers
        .insert(("forward".into(), subject), Some(1_000));
    batch
}

async fn timer_rows(pool: &PgPool) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>("SELECT subject FROM routing_timers ORDER BY subject")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leads_and_after_it_pauses_the_other_takes_over_and_fences_it_out() {
    with_postgres_url(|url| async move {
        let store = store::connect(&url).await.unwrap();
        let db = PgPool::connect(&url).await.unwrap();
        let (mut a, mut b) = (keeper(&url, "a").await, keeper(&url, "b").await);

        a.round().await;
        assert_eq!(a.lease().refusal(), None);
        assert_eq!(a.lease().token(), Some(1));
        b.round().await;
        let why = b.lease().refusal().expect("b follows");
        assert!(
            why.starts_with(ANOTHER_NODE) && why.contains("a holds"),
            "{why}"
        );
        store
            .apply_routing(&timer_row(1, Some(1)), 0)
            .await
            .unwrap();

        // `a` pauses: its rounds stop, so it renews no more. It stops
        // routing by itself before the database lets the lease run out ...
        until_run_out(&db).await;
        let why = a.lease().refusal().expect("a stopped by itself");
        assert!(why.contains("could not renew"), "{why}");
        // ... and `b` takes over with the next token.
        b.round().await;
        assert_eq!(b.lease().refusal(), None);
        assert_eq!(b.lease().token(), Some(2));

        // Whatever `a` still tries to write under its token is refused whole.
        let err = store
            .apply_routing(&timer_row(2, Some(1)), 0)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Fenced {
                    held: 1,
                    current: 2
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("another node took over routing"));
        assert_eq!(timer_rows(&db).await, [1]);
        store
            .apply_routing(&timer_row(3, Some(2)), 0)
            .await
            .unwrap();
        assert_eq!(timer_rows(&db).await, [1, 3]);

        // `a` resumes: its core sees its own deadline passed, ends the term
        // and tries to take the lease again at once, and finds `b` holds it.
        a.round().await;
        let why = a.lease().refusal().expect("a follows");
        assert!(
            why.starts_with(ANOTHER_NODE) && why.contains("b holds"),
            "{why}"
        );
        assert_eq!(a.lease().token(), Some(1));
        // `b` renews on; a write without a token (no lease) is not checked.
        b.round().await;
        assert_eq!((b.lease().refusal(), b.lease().token()), (None, Some(2)));
        store.apply_routing(&timer_row(4, None), 0).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_release_hands_the_lease_over_at_once() {
    with_postgres_url(|url| async move {
        store::connect(&url).await.unwrap();
        let db = PgPool::connect(&url).await.unwrap();
        let (mut a, mut b) = (keeper(&url, "a").await, keeper(&url, "b").await);
        a.round().await;
        b.round().await;
        assert!(b.lease().refusal().is_some());

        a.release().await;
        let why = a.lease().refusal().expect("a stopped routing first");
        assert!(why.contains("shutting down"), "{why}");
        let standing = sql::standing(&db).await.unwrap();
        assert_eq!((standing.live, standing.token), (false, 1), "{standing:?}");
        // No waiting for the ttl: the next try takes it.
        b.round().await;
        assert_eq!((b.lease().refusal(), b.lease().token()), (None, Some(2)));
        // A release by a node that does not hold it changes nothing.
        a.release().await;
        assert!(sql::standing(&db).await.unwrap().live);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_paused_past_its_lease_that_nobody_took_leads_again_under_a_new_token() {
    with_postgres_url(|url| async move {
        store::connect(&url).await.unwrap();
        let db = PgPool::connect(&url).await.unwrap();
        let mut a = keeper(&url, "a").await;
        a.round().await;
        until_run_out(&db).await;
        assert!(a.lease().refusal().is_some());
        // It routed under token 1, so a write of that term may still be in
        // flight: it takes the lease again as a new term, which fences that
        // write out and rebuilds its router from the store.
        a.round().await;
        assert_eq!((a.lease().refusal(), a.lease().token()), (None, Some(2)));
        let standing = sql::standing(&db).await.unwrap();
        assert_eq!(
            (standing.holder.as_deref(), standing.token, standing.live),
            (Some("a"), 2, true)
        );
    })
    .await;
}

#[test]
fn a_fenced_write_stops_a_lease_unless_the_newer_token_is_its_own() {
    let lease = RoutingLease::follower();
    lease.lead(5, Instant::now() + Duration::from_secs(60));
    // The engine wrote under 4 while this node already took 5: no loss.
    lease.fenced(4, 5);
    assert_eq!(lease.refusal(), None);
    lease.fenced(5, 6);
    let why = lease.refusal().expect("another node took over");
    assert!(why.contains("token 6"), "{why}");
}
