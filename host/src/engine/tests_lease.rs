//! The engine under a routing lease on PostgreSQL (issue 18): a step
//! written after another node took the lease over is fenced out, and the
//! engine treats that as a lost lease.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use super::{Engine, EngineError, Event};
use crate::clock::ManualClock;
use crate::node::Workers;
use crate::routing_lock::{Keeper, RoutingLease, Settings};
use crate::store::{self, Role};
use crate::test_support::with_postgres_url;
use frontdesk_cluster::Role as ClusterRole;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_after_another_node_took_the_lease_is_not_stored_and_stops_routing() {
    with_postgres_url(|url| async move {
        let store = store::connect(&url).await.unwrap();
        let db = PgPool::connect(&url).await.unwrap();
        // A long lease: only fencing can stop this node before it renews.
        let settings = Settings {
            ttl: Duration::from_secs(600),
            ..Settings::default()
        };
        let mut keeper = Keeper::new(db.clone(), "a".into(), settings, RoutingLease::follower())
            .expect("valid settings");
        keeper.round().await;
        let lease = keeper.lease().clone();
        assert_eq!(lease.token(), Some(1));
        let workers = Workers::default();
        let clock = Arc::new(ManualClock::new(0));
        let engine = Engine::start_with(
            store.clone(),
            clock,
            Arc::default(),
            lease.clone(),
            None,
            None,
            &workers,
        )
        .await
        .unwrap();

        // Another node takes the lease over while this one still thinks it
        // leads (a pause, a cut connection): as a forced take-over would.
        sqlx::query(
            "UPDATE routing_lease SET holder = 'b', token = token + 1, \
             expires_at = now() + interval '1 hour' WHERE id = 1",
        )
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(lease.refusal(), None);

        let bo = store.create_user("bo", Role::Agent, "h", 0).await.unwrap();
        let refused = engine.send(Event::AgentChanged(bo)).await;
        match refused {
            Err(EngineError::NotRouting(why)) => {
                assert!(why.contains("another node took over routing"), "{why}")
            }
            other => panic!("the step went through: {other:?}"),
        }
        let (agents,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM routing_agents")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(agents, 0, "nothing of the fenced step was stored");
        let why = lease.refusal().expect("the node stopped routing");
        assert!(why.contains("lost the routing lease"), "{why}");
        assert!(matches!(engine.routes(), Err(EngineError::NotRouting(_))));
        // The keeper's core hears of it at its next round, long before a
        // renewal is due, and ends the term: it will not renew token 1.
        assert!(matches!(keeper.role(), ClusterRole::Leader { .. }));
        keeper.round().await;
        assert_eq!(keeper.role(), ClusterRole::Follower);
        assert!(lease.refusal().is_some());
        workers.stop.cancel();
    })
    .await;
}
