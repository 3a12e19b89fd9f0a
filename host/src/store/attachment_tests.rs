//! Attachments and edits in the store, on both backends (issue 6, S3).

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

fn file(kind: AttachmentKind, url: Option<&str>, data: Option<&[u8]>) -> NewAttachment {
    NewAttachment {
        kind,
        file_name: Some(format!("{}.bin", kind.as_str())),
        mime_type: Some("image/png".into()),
        declared_size: Some(4),
        url: url.map(Into::into),
        data: data.map(<[u8]>::to_vec),
        ..NewAttachment::default()
    }
}

fn message(channel_id: i64, id: &str, attachments: Vec<NewAttachment>) -> IngestItem {
    IngestItem {
        channel_id,
        source: "echo".into(),
        message: InboundMessage {
            external_id: id.into(),
            chat_id: "chat-1".into(),
            sender: Sender {
                verified: true,
                id: "u1".into(),
                ..Sender::default()
            },
            text: String::new(),
            attachments,
            edit_of: None,
        },
    }
}

async fn story(store: Arc<dyn Store>) {
    let admin = store
        .create_user("ada", Role::Admin, "h1", 1)
        .await
        .unwrap();
    let agent = store.create_user("bo", Role::Agent, "h2", 1).await.unwrap();
    let stranger = store.create_user("cy", Role::Agent, "h3", 1).await.unwrap();
    let channel = |name: &str| NewChannel {
        name: name.into(),
        kind: "echo".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let sales = store
        .create_channel(admin.id, &channel("Sales"), 1)
        .await
        .unwrap()
        .id;
    let other = store
        .create_channel(admin.id, &channel("Other"), 1)
        .await
        .unwrap()
        .id;
    for (ch, user) in [(sales, agent.id), (other, stranger.id)] {
        let queue = Queue {
            agents: vec![user],
            ..Queue::default()
        };
        store.set_queue(admin.id, ch, &queue, 1).await.unwrap();
    }

    let with_files = message(
        sales,
        "m1",
        vec![
            file(AttachmentKind::File, None, Some(b"%PDF")),
            file(
                AttachmentKind::Image,
                Some("https://provider.example/p.png"),
                None,
            ),
        ],
    );
    let mut edit = message(
        sales,
        "m2",
        vec![
            NewAttachment {
                refused: Some("over the cap".into()),
                ..file(
                    AttachmentKind::Video,
                    Some("https://provider.example/v.mp4"),
                    None,
                )
            },
            file(AttachmentKind::Location, None, None),
        ],
    );
    edit.message.text = "fixed typo".into();
    edit.message.edit_of = Some("m1".into());
    let plain = message(sales, "m3", Vec::new());
    let first = store
        .ingest(
            &[with_files.clone(), edit.clone(), plain, with_files.clone()],
            10,
        )
        .await
        .unwrap();
    assert!(first[3].duplicate, "a repeat inside the batch");
    // S3: the provider retries the webhook; nothing of it is stored twice.
    let again = store.ingest(&[with_files, edit], 11).await.unwrap();
    assert!(again.iter().all(|a| a.duplicate));

    let session = first[0].session_id;
    let messages = store.messages(session, 0, 100).await.unwrap();
    assert_eq!(messages.len(), 3);
    let files: Vec<Vec<(&str, &str, Option<i64>)>> = messages
        .iter()
        .map(|m| {
            m.attachments
                .iter()
                .map(|a| (a.kind.as_str(), a.state.as_str(), a.size))
                .collect()
        })
        .collect();
    assert_eq!(
        files,
        [
            vec![("file", "stored", Some(4)), ("image", "pending", Some(4))],
            vec![
                ("video", "failed", Some(4)),
                ("location", "failed", Some(4))
            ],
            vec![],
        ],
        "each attachment once, in order, with its first state"
    );
    assert_eq!(messages[1].edit_of.as_deref(), Some("m1"));
    assert_eq!(messages[1].body, "fixed typo");
    assert_eq!(messages[0].edit_of, None);
    assert_eq!(
        messages[1].attachments[0].error.as_deref(),
        Some("over the cap")
    );
    assert!(
        messages[1].attachments[1]
            .error
            .as_deref()
            .unwrap()
            .contains("no URL or file id"),
        "a location with nothing to fetch says why"
    );
    let ids: Vec<&str> = messages
        .iter()
        .flat_map(|m| m.attachments.iter().map(|a| a.id.as_str()))
        .collect();
    assert!(
        ids.iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    );

    // Downloads follow the session's visibility (P1, P2).
    let (stored, pending) = (
        &messages[0].attachments[0].id,
        &messages[0].attachments[1].id,
    );
    let view = |user: &User| Viewer {
        user_id: user.id,
        role: user.role,
    };
    let got = store
        .attachment_file(view(&agent), stored)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.data.as_deref(), got.info.mime_type.as_deref()),
        (Some(&b"%PDF"[..]), Some("image/png"))
    );
    assert!(
        store
            .attachment_file(view(&admin), stored)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .attachment_file(view(&stranger), stored)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.attachment_file(view(&admin), "0123").await.unwrap(),
        None
    );
    let waiting = store
        .attachment_file(view(&admin), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (waiting.info.state.as_str(), waiting.data),
        ("pending", None)
    );

    // The worker's lease: claimed once, back when the lease runs out.
    assert_eq!(store.next_attachment_due().await.unwrap(), Some(10));
    let jobs = store.claim_attachments(20, 1_000, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(
        (
            job.id.as_str(),
            job.url.as_deref(),
            job.attempts,
            job.channel_id
        ),
        (
            pending.as_str(),
            Some("https://provider.example/p.png"),
            0,
            sales
        )
    );
    assert!(
        store
            .claim_attachments(20, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_attachments(1_020, 1_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let retry = FetchOutcome::Retry {
        at: 5_000,
        error: "provider answered 503".into(),
    };
    store
        .finish_attachment(pending, &retry, 1_030)
        .await
        .unwrap();
    assert!(
        store
            .claim_attachments(4_999, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_attachment_due().await.unwrap(), Some(5_000));
    let jobs = store.claim_attachments(5_000, 1_000, 10).await.unwrap();
    assert_eq!(jobs[0].attempts, 1);
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2];
    let stored_outcome = FetchOutcome::Stored {
        mime_type: "image/png".into(),
        data: png.clone(),
    };
    store
        .finish_attachment(pending, &stored_outcome, 5_100)
        .await
        .unwrap();
    // A late worker whose lease ran out cannot undo it.
    let late = FetchOutcome::Failed {
        error: "late".into(),
    };
    store
        .finish_attachment(pending, &late, 5_200)
        .await
        .unwrap();
    let got = store
        .attachment_file(view(&agent), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.data, Some(png));
    assert_eq!(
        (got.info.state.as_str(), got.info.size, got.info.error),
        ("stored", Some(7), None)
    );
    assert_eq!(store.next_attachment_due().await.unwrap(), None);
}

#[tokio::test]
async fn attachments_story_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    story(store).await;
}

#[tokio::test]
async fn attachments_story_on_postgres() {
    with_postgres(story).await;
}
