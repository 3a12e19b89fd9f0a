//! Contacts and leads (C1–C3, C5) on both backends: matching by each kind
//! of identity, a merge, leads created or refused, the responsible agent.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

async fn channel(store: &dyn Store, admin: i64, name: &str, config: &str) -> i64 {
    let new = NewChannel {
        name: name.into(),
        kind: "api".into(),
        secret: "s".into(),
        config: config.into(),
    };
    store.create_channel(admin, &new, 1).await.unwrap().id
}

fn message(channel_id: i64, source: &str, id: &str, sender: Sender) -> IngestItem {
    IngestItem {
        channel_id,
        source: source.into(),
        message: InboundMessage {
            external_id: format!("ext-{id}"),
            chat_id: format!("chat-{id}"),
            sender,
            text: format!("hello from {id}"),
            ..InboundMessage::default()
        },
    }
}

fn sender(id: &str, email: Option<&str>, phone: Option<&str>) -> Sender {
    Sender {
        verified: true,
        id: id.into(),
        name: Some(format!("Customer {id}")),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
    }
}

async fn contact_of(store: &dyn Store, item: IngestItem, now: Millis) -> (i64, i64) {
    let session = store.ingest(&[item], now).await.unwrap()[0].session_id;
    let contact = store
        .session(ADMIN, session)
        .await
        .unwrap()
        .unwrap()
        .contact_id;
    (session, contact)
}

async fn contacts_story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let site = channel(store.as_ref(), admin.id, "Site", "{}").await;
    let mail = channel(store.as_ref(), admin.id, "Mail", "{}").await;

    // C1 by channel identity: the same sender again is the same contact.
    let (_, first) = contact_of(
        &*store,
        message(site, "webchat", "a1", sender("v-1", None, None)),
        10,
    )
    .await;
    let (_, again) = contact_of(
        &*store,
        message(site, "webchat", "a2", sender("v-1", None, None)),
        11,
    )
    .await;
    assert_eq!(first, again, "C1: channel identity");

    // C1 by email, whatever its case: a mail from another channel finds the contact.
    let (_, by_mail) = contact_of(
        &*store,
        message(
            site,
            "webchat",
            "b1",
            sender("v-2", Some(" Bo@Example.ORG"), None),
        ),
        12,
    )
    .await;
    let (_, from_mail) = contact_of(
        &*store,
        message(
            mail,
            "email",
            "b2",
            sender("bo@example.org", Some("bo@example.org"), None),
        ),
        13,
    )
    .await;
    assert_eq!(by_mail, from_mail, "C1: normalized email");
    let stored = store.contact(ADMIN, by_mail).await.unwrap().unwrap();
    assert_eq!(stored.email.as_deref(), Some("bo@example.org"));
    assert!(!stored.unverified && stored.possible_match_id.is_none());

    // C1: the same address from a sender the channel cannot vouch for is a
    // claim: a contact of its own, unverified, naming the known one as a
    // possible match; and it is never a match for anyone later.
    let mut claim = sender("v-9", Some("bo@example.org"), None);
    claim.verified = false;
    let (_, claimed) = contact_of(&*store, message(site, "webchat", "b3", claim), 12).await;
    assert_ne!(claimed, by_mail, "C1: a claim attaches to no known contact");
    let shown = store.contact(ADMIN, claimed).await.unwrap().unwrap();
    assert!(shown.unverified, "{shown:?}");
    assert_eq!(shown.possible_match_id, Some(by_mail));
    let listed = store.list_contacts(ADMIN, Some("bo@"), 10).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|c| c.id == claimed && c.possible_match_id == Some(by_mail))
    );
    let (_, verified_again) = contact_of(
        &*store,
        message(
            mail,
            "email",
            "b4",
            sender("bo@example.org", Some("bo@example.org"), None),
        ),
        12,
    )
    .await;
    assert_eq!(verified_again, by_mail);

    // C1 by phone, written two ways.
    let (_, by_phone) = contact_of(
        &*store,
        message(
            site,
            "webchat",
            "c1",
            sender("v-3", None, Some("+49 (30) 1234-5678")),
        ),
        14,
    )
    .await;
    let (_, again_by_phone) = contact_of(
        &*store,
        message(
            mail,
            "telegram",
            "c2",
            sender("tg-3", None, Some("0049 30 12345678")),
        ),
        15,
    )
    .await;
    assert_eq!(by_phone, again_by_phone, "C1: E.164 phone");

    // C1 merge: the web visitor and the Telegram user are one person.
    let (tg_session, tg_contact) = contact_of(
        &*store,
        message(mail, "telegram", "d1", sender("tg-4", None, None)),
        16,
    )
    .await;
    assert_ne!(tg_contact, first);
    store
        .set_consent(
            tg_contact,
            &ConsentRow {
                accepted: true,
                notice_version: 1,
                at: 16,
            },
        )
        .await
        .unwrap();
    let merged = store
        .merge_contacts(admin.id, first, tg_contact, 17)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merged.id, first);
    assert_eq!(
        store.contact(ADMIN, tg_contact).await.unwrap(),
        None,
        "merged contact is gone"
    );
    assert_eq!(
        store
            .session(ADMIN, tg_session)
            .await
            .unwrap()
            .unwrap()
            .contact_id,
        first,
        "its sessions moved"
    );
    assert!(
        store
            .consent(first)
            .await
            .unwrap()
            .is_some_and(|c| c.accepted),
        "its consent moved"
    );
    let (_, next_tg) = contact_of(
        &*store,
        message(mail, "telegram", "d2", sender("tg-4", None, None)),
        18,
    )
    .await;
    assert_eq!(
        next_tg, first,
        "its channel identity now finds the kept contact"
    );
    assert_eq!(store.audit_log(1).await.unwrap()[0].action, "contact.merge");
    assert_eq!(
        store
            .merge_contacts(admin.id, first, 999_999, 19)
            .await
            .unwrap(),
        None
    );
}

async fn leads_story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let auto = channel(store.as_ref(), admin.id, "Auto", "{}").await;
    let manual = channel(store.as_ref(), admin.id, "Manual", r#"{"leads": "manual"}"#).await;
    let off = channel(store.as_ref(), admin.id, "Off", r#"{"leads": "off"}"#).await;

    // C2, C3: a new Telegram customer can be reached again: a lead, sourced telegram.
    let (tg, _) = contact_of(
        &*store,
        message(auto, "telegram", "t1", sender("tg-1", None, None)),
        10,
    )
    .await;
    let lead = store
        .leads(Some(tg), 1)
        .await
        .unwrap()
        .pop()
        .expect("auto lead");
    assert_eq!(
        (
            lead.source.as_str(),
            lead.name.as_str(),
            lead.created_by.as_str()
        ),
        ("telegram", "Customer tg-1", "auto")
    );
    assert_eq!(store.lead(lead.id).await.unwrap(), Some(lead.clone()));

    // C2: a live-chat visitor without contact details cannot be: no lead, and why.
    let (web, _) = contact_of(
        &*store,
        message(auto, "webchat", "w1", sender("v-1", None, None)),
        11,
    )
    .await;
    assert!(store.leads(Some(web), 1).await.unwrap().is_empty());
    let note = store.lead_note(web).await.unwrap().unwrap();
    assert!(note.contains("cannot be reached again"), "{note}");
    // ... and an agent's click is refused for the same reason.
    let refused = store.create_lead(web, "agent:1", 12).await.unwrap();
    assert!(
        matches!(refused, LeadOutcome::Refused { ref reason } if reason.contains("no email or phone")),
        "{refused:?}"
    );

    // A visitor who left an email is reachable.
    let (web_mail, _) = contact_of(
        &*store,
        message(
            auto,
            "webchat",
            "w2",
            sender("v-2", Some("cy@example.org"), None),
        ),
        13,
    )
    .await;
    assert_eq!(
        store.leads(Some(web_mail), 1).await.unwrap()[0].source,
        "webchat"
    );

    // A known contact's new session is not a new lead.
    let (tg_again, _) = contact_of(
        &*store,
        message(auto, "telegram", "t2", sender("tg-1", None, None)),
        14,
    )
    .await;
    assert!(store.leads(Some(tg_again), 1).await.unwrap().is_empty());
    assert!(
        store
            .lead_note(tg_again)
            .await
            .unwrap()
            .unwrap()
            .contains("known contact")
    );

    // Manual: nothing until the agent clicks; a second click returns the same lead.
    let (m, _) = contact_of(
        &*store,
        message(
            manual,
            "email",
            "m1",
            sender("e@example.org", Some("e@example.org"), None),
        ),
        15,
    )
    .await;
    assert!(store.leads(Some(m), 1).await.unwrap().is_empty());
    assert!(
        store
            .lead_note(m)
            .await
            .unwrap()
            .unwrap()
            .contains("manual")
    );
    let LeadOutcome::Created { lead } = store.create_lead(m, "agent:7", 16).await.unwrap() else {
        panic!("the click creates the lead");
    };
    assert_eq!(
        (lead.created_by.as_str(), lead.source.as_str()),
        ("agent:7", "email")
    );
    assert_eq!(
        store.lead_note(m).await.unwrap(),
        None,
        "the note is cleared"
    );
    assert!(matches!(
        store.create_lead(m, "agent:7", 17).await.unwrap(),
        LeadOutcome::Exists { .. }
    ));

    // Off: no lead, and the note says so.
    let (o, _) = contact_of(
        &*store,
        message(off, "telegram", "o1", sender("tg-9", None, None)),
        18,
    )
    .await;
    assert!(store.leads(Some(o), 1).await.unwrap().is_empty());
    assert!(store.lead_note(o).await.unwrap().unwrap().contains("off"));
}

/// C5 at the store: the first agent becomes responsible if nobody is; only a
/// `replace` (a transfer by hand with C5 on) overrides that.
async fn responsible_story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let first = store
        .create_user("bo", Role::Agent, "h-bo", 1)
        .await
        .unwrap();
    let second = store
        .create_user("cy", Role::Agent, "h-cy", 1)
        .await
        .unwrap();
    let site = channel(store.as_ref(), admin.id, "Site", "{}").await;
    let (session, contact) = contact_of(
        &*store,
        message(site, "telegram", "r1", sender("tg-1", None, None)),
        10,
    )
    .await;
    let responsible = |agent: i64, replace: bool| RoutingBatch {
        responsible: vec![(session, agent, replace)],
        ..RoutingBatch::default()
    };
    let of = |store: Arc<dyn Store>| async move {
        store
            .contact(ADMIN, contact)
            .await
            .unwrap()
            .unwrap()
            .responsible_user_id
    };
    store
        .apply_routing(&responsible(first.id, false), 11)
        .await
        .unwrap();
    assert_eq!(of(store.clone()).await, Some(first.id));
    store
        .apply_routing(&responsible(second.id, false), 12)
        .await
        .unwrap();
    assert_eq!(
        of(store.clone()).await,
        Some(first.id),
        "without C5 the first agent stays"
    );
    store
        .apply_routing(&responsible(second.id, true), 13)
        .await
        .unwrap();
    assert_eq!(
        of(store.clone()).await,
        Some(second.id),
        "with C5 the transfer target takes over"
    );

    // R14's hand-off: ingest returns a new session's contact and its
    // responsible agent with the message, so routing reads neither.
    let next = store
        .ingest(
            &[message(site, "telegram", "r2", sender("tg-1", None, None))],
            14,
        )
        .await
        .unwrap()[0];
    assert!(next.new_session && next.session_id != session);
    assert_eq!(
        next.contact,
        Some(SessionContact {
            id: contact,
            responsible: Some(second.id)
        })
    );
}

#[tokio::test]
async fn c1_contacts_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    contacts_story(store).await;
}

#[tokio::test]
async fn c1_contacts_on_postgres() {
    with_postgres(contacts_story).await;
}

#[tokio::test]
async fn c2_c3_leads_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    leads_story(store).await;
}

#[tokio::test]
async fn c2_c3_leads_on_postgres() {
    with_postgres(leads_story).await;
}

#[tokio::test]
async fn c5_responsible_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    responsible_story(store).await;
}

#[tokio::test]
async fn c5_responsible_on_postgres() {
    with_postgres(responsible_story).await;
}
