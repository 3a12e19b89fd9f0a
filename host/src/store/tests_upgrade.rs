//! Upgrading a database that already has users: migration 0018 moves each
//! user's API token into `api_tokens`, and the token keeps signing in.

use std::borrow::Cow;

use sqlx::sqlite::SqlitePoolOptions;

use crate::auth::{new_token, token_hash};
use crate::store::{self, Role};

#[tokio::test]
async fn p2_a_token_made_before_0018_still_signs_in_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let pool = SqlitePoolOptions::new()
        .connect_with(
            url.parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true),
        )
        .await
        .unwrap();
    // The database as session 5 found it: every migration before 0018.
    let mut migrator = sqlx::migrate!("migrations/sqlite");
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 18)
        .cloned()
        .collect();
    assert_eq!(before.last().map(|m| m.version), Some(17), "up to 0017");
    migrator.migrations = Cow::Owned(before);
    migrator.run(&pool).await.unwrap();
    let token = new_token();
    sqlx::query("INSERT INTO users (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind("old-timer")
        .bind(Role::Agent.as_str())
        .bind(token_hash(&token))
        .bind(1_i64)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // Opening it with today's code applies 0018 and later.
    let store = store::connect(&url).await.unwrap();
    let user = store
        .user_by_token_hash(&token_hash(&token))
        .await
        .unwrap()
        .expect("the old token still names its user");
    assert_eq!(user.name, "old-timer");
}
