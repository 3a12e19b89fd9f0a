//! A throwaway PostgreSQL database per test, on the server the machine runs.

use std::future::Future;

use sqlx::Connection;

/// Runs `test` with the URL of a new database `frontdesk_{tag}_{pid}`, and
/// drops the database afterwards, also when the test panics (the panic is
/// then raised again). `FRONTDESK_TEST_POSTGRES` points at another server.
pub async fn on_postgres<F, Fut>(tag: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = std::env::var("FRONTDESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    // Only the fixed tag and digits go into the name, so it is safe in DDL.
    let name = format!("frontdesk_{tag}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL is needed for this test");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let db = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let outcome = tokio::spawn(test(db)).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
