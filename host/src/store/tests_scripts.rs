//! U1 on both backends: scripts are stored per channel and for all channels,
//! and each scope has its own versions and its own newest script.

use std::sync::Arc;

use frontdesk_rules::ScriptScope;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

async fn scripts(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let site = store
        .create_channel(admin.id, &channel, 1)
        .await
        .unwrap()
        .id;
    let (all, own) = (ScriptScope::AllChannels, ScriptScope::Channel(site));
    let save = async |scope, source: Option<&str>| {
        store
            .save_script(scope, "no_answer", source, admin.id, 2)
            .await
            .unwrap()
    };
    save(all, Some("reply(\"all 1\")")).await;
    let mine = save(own, Some("reply(\"site 1\")")).await;
    assert_eq!(mine.channel_id, Some(site));
    save(all, Some("reply(\"all 2\")")).await;
    save(own, None).await;

    let versions = store.script_versions(own, "no_answer").await.unwrap();
    let sources: Vec<_> = versions.iter().map(|v| v.source.as_deref()).collect();
    assert_eq!(sources, [None, Some("reply(\"site 1\")")], "newest first");
    let versions = store.script_versions(all, "no_answer").await.unwrap();
    assert!(
        versions.iter().all(|v| v.channel_id.is_none()),
        "{versions:?}"
    );
    assert_eq!(versions.len(), 2);

    let mut active = store.active_scripts().await.unwrap();
    active.sort_by_key(|v| v.channel_id);
    let newest: Vec<_> = active
        .iter()
        .map(|v| (v.channel_id, v.source.as_deref()))
        .collect();
    assert_eq!(
        newest,
        [(None, Some("reply(\"all 2\")")), (Some(site), None)],
        "one newest version per scope"
    );
    let missing = store
        .save_script(ScriptScope::Channel(999), "no_answer", None, admin.id, 3)
        .await;
    assert!(
        matches!(missing, Err(StoreError::Invalid(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn u1_scripts_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    scripts(store).await;
}

#[tokio::test]
async fn u1_scripts_on_postgres() {
    with_postgres(scripts).await;
}
