//! A customer's data and retention (issue 19) on both backends: the export
//! from the schema's keyed tables, erasure of failed inbound requests and
//! plugin kv entries that name the customer (and nobody else's), and a
//! retention batch that leaves a stub.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

fn item(channel_id: i64, who: &str, email: Option<&str>) -> IngestItem {
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: format!("m-{who}"),
            chat_id: format!("chat-{who}"),
            sender: Sender {
                verified: true,
                id: who.into(),
                name: Some(format!("Customer {who}")),
                email: email.map(Into::into),
                phone: None,
            },
            text: format!("words of {who}"),
            ..InboundMessage::default()
        },
    }
}

async fn close(store: &dyn Store, channel_id: i64, session: i64, at: Millis) {
    let batch = RoutingBatch {
        transitions: vec![TransitionRow {
            session_id: session,
            channel_id,
            from_state: Some(SessionState::Queued),
            to_state: SessionState::Closed,
            agent_id: None,
            cause: "test".into(),
            at,
        }],
        ..RoutingBatch::default()
    };
    store.apply_routing(&batch, at).await.unwrap();
}

async fn story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let new = NewChannel {
        name: "Api".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store.create_channel(admin.id, &new, 1).await.unwrap().id;
    let accepted = store
        .ingest(
            &[
                item(channel, "alice-0001", Some("alice@example.org")),
                item(channel, "bob-0002", None),
            ],
            1_000,
        )
        .await
        .unwrap();
    let (alice_session, bob_session) = (accepted[0].session_id, accepted[1].session_id);
    let alice = store
        .session(ADMIN, alice_session)
        .await
        .unwrap()
        .unwrap()
        .contact_id;
    for (who, body) in [
        ("alice", "{\"from\": \"alice-0001\"}"),
        ("bob", "{\"from\": \"bob-0002\"}"),
        ("alice by email", "{\"mail\": \"alice@example.org\"}"),
    ] {
        let failed = NewFailedInbound {
            channel_id: channel,
            headers: serde_json::json!({"x-who": who}),
            body: body.as_bytes().to_vec(),
            reason: "unreadable".into(),
        };
        store.add_failed_inbound(&failed, 1_000).await.unwrap();
    }
    let scope = channel.to_string();
    for key in ["chat:alice-0001", "chat:bob-0002"] {
        assert!(
            store
                .kv_set("echo", &scope, key, b"v", 1 << 20)
                .await
                .unwrap()
        );
    }

    let export = store.contact_export(alice).await.unwrap().unwrap();
    assert_eq!(export.tables["contacts"][0]["id"], alice);
    assert_eq!(export.tables["contacts"][0]["email"], "alice@example.org");
    assert_eq!(export.tables["sessions"].len(), 1);
    assert_eq!(export.tables["messages"].len(), 1);
    assert_eq!(export.tables["messages"][0]["body"], "words of alice-0001");
    assert_eq!(export.tables["contact_identities"].len(), 1);
    assert!(store.contact_export(9_999).await.unwrap().is_none());

    assert_eq!(
        store.erase_contact(admin.id, alice, 2_000).await.unwrap(),
        Erasure::OpenSessions(vec![alice_session])
    );
    close(store.as_ref(), channel, alice_session, 1_500).await;
    let Erasure::Erased(removed) = store.erase_contact(admin.id, alice, 2_000).await.unwrap()
    else {
        panic!("erased")
    };
    assert_eq!(removed["failed_inbound"], 2, "{removed:?}");
    assert_eq!(removed["plugin_kv"], 1, "{removed:?}");
    assert_eq!(removed["messages"], 1, "{removed:?}");
    assert_eq!(removed["sessions"], 1, "{removed:?}");
    assert_eq!(removed["contacts"], 1, "{removed:?}");
    assert!(store.contact(ADMIN, alice).await.unwrap().is_none());
    let left = store.failed_inbound(None, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, b"{\"from\": \"bob-0002\"}");
    assert!(
        store
            .kv_get("echo", &scope, "chat:bob-0002")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.erase_contact(admin.id, alice, 2_000).await.unwrap(),
        Erasure::NotFound
    );
    let filter = AuditFilter {
        action: Some("contact.erase".into()),
        limit: 10,
        ..AuditFilter::default()
    };
    let audit = store.audit_search(&filter).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].detail.contains("alice"), "{}", audit[0].detail);

    // Retention: Bob's closed session becomes a stub, once.
    close(store.as_ref(), channel, bob_session, 1_500).await;
    let counts = store
        .retain_batch(channel, 1_000, 200, 3_000)
        .await
        .unwrap();
    assert!(counts.is_empty(), "his last message is not before 1000");
    let counts = store
        .retain_batch(channel, 2_000, 200, 3_000)
        .await
        .unwrap();
    assert_eq!((counts.sessions, counts.messages), (1, 1), "{counts:?}");
    assert_eq!(counts.failed_inbound, 1, "his failed request is older too");
    let again = store
        .retain_batch(channel, 2_000, 200, 3_000)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let stub = store.session(ADMIN, bob_session).await.unwrap().unwrap();
    assert_eq!(stub.chat_id, format!("retained:{bob_session}"));
    assert_eq!(stub.created_at, 1_000);
    assert!(store.messages(bob_session, 0, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn export_erasure_and_retention_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    story(store).await;
}

#[tokio::test]
async fn export_erasure_and_retention_on_postgres() {
    with_postgres(story).await;
}
