//! Helpers for the crate's tests: throwaway databases on both backends.

use std::future::Future;
use std::sync::Arc;

use sqlx::Connection;

use crate::store::{self, Store};

/// The PostgreSQL server tests create their databases on.
///
/// `FRONTDESK_TEST_POSTGRES` overrides the default, which is the machine's
/// `postgres` user on 127.0.0.1:5432 with database `test`.
pub fn postgres_admin_url() -> String {
    std::env::var("FRONTDESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh SQLite store in a temporary directory (deleted with the guard).
pub async fn sqlite_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (store::connect(&url).await.expect("open sqlite"), dir)
}

/// Runs `body` against a fresh PostgreSQL database, and drops the database
/// afterwards even when `body` panics (the panic is then passed on).
pub async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_postgres_url(|url| async move {
        let store = store::connect(&url)
            .await
            .unwrap_or_else(|err| panic!("cannot open {url}: {err}"));
        body(store).await
    })
    .await
}

/// [`with_postgres`] for a body that opens the database itself, from its URL
/// (to read it with raw SQL next to the store, say).
pub async fn with_postgres_url<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = postgres_admin_url();
    // Only digits go into the name, so it is safe to splice into DDL (which takes no parameters).
    let name = format!(
        "frontdesk_test_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let url = match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("FRONTDESK_TEST_POSTGRES must end in /DATABASE"),
    };
    let outcome = tokio::spawn(body(url)).await.map_err(|e| e.into_panic());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Stores an agent's reply and its outbox entry the way the engine's step
/// does (S5), for tests that need a reply without routing one.
pub async fn store_reply(
    store: &dyn Store,
    session_id: i64,
    author_id: i64,
    body: &str,
    now: store::Millis,
) -> (store::Message, store::OutboxItem) {
    let batch = store::RoutingBatch {
        replies: vec![store::AgentReply {
            session_id,
            author_id,
            body: body.into(),
        }],
        ..store::RoutingBatch::default()
    };
    let mut stored = store.apply_routing(&batch, now).await.unwrap();
    stored.pop().expect("one reply stored")
}
