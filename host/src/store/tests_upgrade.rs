//! Upgrading a database that already has users: migration 0018 moves each
//! user's API token into `api_tokens`, and the token keeps signing in.

use std::borrow::Cow;

use sqlx::sqlite::SqlitePoolOptions;

use crate::auth::{new_token, token_hash};
use crate::store::{self, Role};

/// A SQLite database in `dir` with every migration before `version`, as an
/// older frontdesk left it: its URL and an open pool.
pub(super) async fn migrated_before(
    dir: &std::path::Path,
    version: i64,
) -> (String, sqlx::SqlitePool) {
    let url = format!("sqlite://{}", dir.join("old.db").display());
    let pool = SqlitePoolOptions::new()
        .connect_with(
            url.parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let mut migrator = sqlx::migrate!("migrations/sqlite");
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    assert_eq!(
        before.last().map(|m| m.version),
        Some(version - 1),
        "up to the migration before {version}"
    );
    migrator.migrations = Cow::Owned(before);
    migrator.run(&pool).await.unwrap();
    (url, pool)
}

#[tokio::test]
async fn p2_a_token_made_before_0018_still_signs_in_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    // The database as session 5 found it: every migration before 0018.
    let (url, pool) = migrated_before(dir.path(), 18).await;
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

/// U1: scripts saved before 0019 had no channel; after the upgrade they are
/// the scripts for all channels, so every channel keeps running them.
#[tokio::test]
async fn u1_a_script_saved_before_0019_still_runs_for_every_channel_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pool) = migrated_before(dir.path(), 19).await;
    sqlx::query(
        "INSERT INTO channels (name, kind, secret, created_at) VALUES ('Site', 'api', 's', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO scripts (hook, source, saved_at) VALUES ('no_answer', 'reply(\"old\")', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = store::connect(&url).await.unwrap();
    let active = store.active_scripts().await.unwrap();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].channel_id, None, "a script for all channels");
    let rules = crate::app::rules::load(store.as_ref()).await.unwrap();
    let channel = frontdesk_rules::ScriptScope::Channel(1);
    let hook = frontdesk_rules::Hook::NoAnswer;
    assert_eq!(rules.source(channel, hook), "reply(\"old\")");
    assert_eq!(
        rules.origin(channel, hook),
        frontdesk_rules::ScriptOrigin::AllChannels
    );
    let versions = store
        .script_versions(frontdesk_rules::ScriptScope::AllChannels, "no_answer")
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "its history is kept");
}
