//! Issue 6, email end to end on the real binary with real mail peers:
//! Python's `smtplib` delivers to frontdesk's SMTP listener, `aiosmtpd`
//! receives the replies, `dovecot` serves a mailbox the IMAP poller reads.
//! S3 (a mail delivered twice is stored once), S4 (250 after the commit),
//! S5 (a relay outage is retried from the outbox), C3 (source `email`).

use crate::email_peers as peers;
#[path = "email_subject.rs"]
mod subject;
use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use peers::{Dovecot, IMAP_PASSWORD, IMAP_USER, Relay, free_port, smtp_send, wait_for};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

const T0: i64 = 1_795_503_600_000;
const SHOP: &str = "help@shop.test";

/// Starts `serve` and waits for both addresses it logs (HTTP and SMTP).
fn start(db: &str, env: &[(&str, &str)]) -> (Server, Option<SocketAddr>) {
    let mut child = Command::new(support::binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FRONTDESK_DATABASE", db)
        .env("FRONTDESK_LOG_JSON", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start frontdesk serve");
    let want_smtp = env.iter().any(|(k, _)| *k == "FRONTDESK_SMTP_LISTEN");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut http, mut smtp) = (None, None);
    while http.is_none() || (want_smtp && smtp.is_none()) {
        let line = lines.next().expect("server exited early").unwrap();
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(a) = entry["fields"]["addr"].as_str() {
            http = Some(a.parse().unwrap());
        }
        if let Some(a) = entry["fields"]["smtp_addr"].as_str() {
            smtp = Some(a.parse().unwrap());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (
        Server {
            child,
            addr: http.unwrap(),
        },
        smtp,
    )
}

/// A test setup: a database with an admin and the email plugin installed.
struct Setup {
    dir: tempfile::TempDir,
    db: String,
    data: String,
    token: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let package = plugin_package("email", "email", dir.path());
    let data = dir.path().join("data").to_str().unwrap().to_string();
    support::plugin_cli(
        std::path::Path::new(&data),
        &["install", package.to_str().unwrap()],
    );
    Setup {
        dir,
        db,
        data,
        token,
    }
}

async fn create_channel(http: &Http, server: &Server, token: &str, config: Value) -> i64 {
    let (status, body) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            token,
            Some(json!({"name": "Mail", "kind": "email", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["channel"]["id"].as_i64().unwrap()
}

async fn get(http: &Http, server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = http.api("GET", &server.url(path), token, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn sessions(http: &Http, server: &Server, token: &str) -> Vec<Value> {
    let body = get(http, server, token, "/api/v1/sessions").await;
    body.as_array()
        .or_else(|| body["sessions"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// The customer's messages of a session, oldest first.
async fn customer_texts(http: &Http, server: &Server, token: &str, session: i64) -> Vec<String> {
    let body = get(
        http,
        server,
        token,
        &format!("/api/v1/sessions/{session}/messages"),
    )
    .await;
    let list = body
        .as_array()
        .or_else(|| body["messages"].as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter(|m| m["direction"] == "in")
        .map(|m| m["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l[name.len()..].starts_with(':')
        })
        .map(|l| l[name.len() + 1..].trim())
}

/// A customer's mail; `extra` holds more header lines.
fn mail(id: &str, extra: &str, body: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("{extra}\n")
    };
    format!(
        "From: Bob Example <bob@example.org>\nTo: {SHOP}\nSubject: Order 42\nDate: Mon, 30 Nov 2026 10:00:00 +0000\nMessage-ID: <{id}>\n{extra}\n{body}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_in_threaded_replies_out_dedupe_bounces_and_a_relay_outage() {
    let s = setup();
    let relay_port = free_port();
    let relay_url = format!("smtp://127.0.0.1:{relay_port}");
    let clock = T0.to_string();
    let env = [
        ("FRONTDESK_DATA_DIR", s.data.as_str()),
        ("FRONTDESK_TEST_CLOCK", clock.as_str()),
        ("FRONTDESK_SMTP_LISTEN", "127.0.0.1:0"),
        ("FRONTDESK_SMTP_RELAY", relay_url.as_str()),
        ("FRONTDESK_SMTP_MAX_BYTES", "65536"),
    ];
    let (server, smtp) = start(&s.db, &env);
    let smtp = smtp.unwrap();
    let http = Http::default();
    let token = &s.token;
    let channel = create_channel(
        &http,
        &server,
        token,
        json!({"address": SHOP, "display_name": "Shop Support"}),
    )
    .await;

    // A customer's mail: 250 only once stored, and stored once when sent twice (S3, S4).
    let first = mail("m1@example.org", "", "Hello, where is my parcel?");
    for _ in 0..2 {
        let out = smtp_send(smtp, "bob@example.org", &[SHOP], &first);
        assert_eq!(out["data"][0], 250, "{out}");
    }
    let list = sessions(&http, &server, token).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let session = list[0]["id"].as_i64().unwrap();
    assert_eq!(
        customer_texts(&http, &server, token, session).await,
        vec!["Subject: Order 42\n\nHello, where is my parcel?"]
    );

    // Unknown recipients are refused at RCPT with a clear 550.
    let out = smtp_send(smtp, "bob@example.org", &["nobody@shop.test"], &first);
    assert_eq!(out["rcpt"][0][0], 550, "{out}");
    assert!(
        out["rcpt"][0][1]
            .as_str()
            .unwrap()
            .contains("no frontdesk email channel")
    );

    // Over the size limit: 552, nothing stored.
    let big = mail("big@example.org", "", &"x".repeat(100_000));
    let out = smtp_send(smtp, "bob@example.org", &[SHOP], &big);
    assert_eq!(out["data"][0], 552, "{out}");

    // Mail cannot be injected over HTTP: the webhook of an email channel refuses it (P3).
    let (status, _) = http
        .send(
            "POST",
            &server.url(&format!("/hooks/{channel}")),
            &[],
            mail("forged@example.org", "", "forged").into_bytes(),
        )
        .await
        .unwrap();
    assert!((400..500).contains(&status), "webhook answered {status}");
    assert_eq!(sessions(&http, &server, token).await.len(), 1);
    assert_eq!(
        customer_texts(&http, &server, token, session).await.len(),
        1
    );

    // An out-of-office reply and a bounce open no session and add nothing.
    let auto = mail(
        "auto1@example.org",
        "Auto-Submitted: auto-replied",
        "I am away until Monday.",
    );
    assert_eq!(
        smtp_send(smtp, "bob@example.org", &[SHOP], &auto)["data"][0],
        250
    );
    let bounce = "From: MAILER-DAEMON@mx.example.org\nTo: help@shop.test\nSubject: Undelivered Mail\nMessage-ID: <b1@mx.example.org>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nDelivery failed.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.1.1\n--b--\n";
    assert_eq!(smtp_send(smtp, "", &[SHOP], bounce)["data"][0], 250);
    assert_eq!(sessions(&http, &server, token).await.len(), 1);
    assert_eq!(
        customer_texts(&http, &server, token, session).await.len(),
        1
    );

    // The agent answers while the relay is down: the outbox keeps it (S5).
    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/messages")),
            token,
            Some(json!({"text": "Hi Bob, it left our warehouse today."})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let reply_outbox = body["outbox"]["id"].as_i64().unwrap();
    // The chat's items go out in order, so the reply waits behind the
    // session's earlier notice, whose attempt failed while the relay is down.
    wait_for("a failed attempt while the relay is down", || {
        let rt = tokio::runtime::Handle::current();
        let items = tokio::task::block_in_place(|| {
            rt.block_on(get(&http, &server, token, "/api/v1/outbox?state=pending"))
        });
        let items = items.as_array().cloned().unwrap_or_default();
        items.iter().any(|i| i["id"].as_i64() == Some(reply_outbox))
            && items
                .iter()
                .any(|i| i["attempts"].as_i64().unwrap_or(0) >= 1 && i["last_error"].is_string())
    });

    // The relay comes back; the next try (on the test clock) delivers it, once.
    let relay = Relay::start(relay_port, &s.dir.path().join("relay"));
    let (status, _) = http
        .api(
            "POST",
            &server.url("/api/v1/test/clock"),
            token,
            Some(json!({"advance_ms": 600_000})),
        )
        .await;
    assert_eq!(status, 200);
    let mut reply = String::new();
    wait_for("the agent's reply at the relay", || {
        relay.received().into_iter().any(|m| {
            let hit = m.contains("it left our warehouse today");
            if hit {
                reply = m;
            }
            hit
        })
    });
    assert_eq!(header(&reply, "In-Reply-To"), Some("<m1@example.org>"));
    assert!(
        header(&reply, "References")
            .unwrap()
            .contains("<m1@example.org>")
    );
    assert_eq!(header(&reply, "Subject"), Some("Re: Order 42"));
    assert_eq!(header(&reply, "X-RcptTo"), Some("bob@example.org"));
    assert!(header(&reply, "From").unwrap().contains(SHOP));
    let sent_id = header(&reply, "Message-ID").unwrap().to_string();
    // The relay has it before the worker records the send: wait for the record.
    wait_for("the reply marked sent", || {
        let rt = tokio::runtime::Handle::current();
        let items = tokio::task::block_in_place(|| {
            rt.block_on(get(&http, &server, token, "/api/v1/outbox?state=sent"))
        });
        items
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["id"].as_i64() == Some(reply_outbox))
    });
    let copies = relay
        .received()
        .iter()
        .filter(|m| m.contains("it left our warehouse today"))
        .count();
    assert_eq!(copies, 1, "the reply reached the relay {copies} times");

    // The customer answers the reply, quoting it: same session, quote stripped.
    let answer = mail(
        "m2@example.org",
        &format!("In-Reply-To: {sent_id}\nReferences: <m1@example.org> {sent_id}"),
        "Great, thanks!\n\nOn Mon, 30 Nov 2026 at 10:05, Shop Support <help@shop.test> wrote:\n> Hi Bob, it left our warehouse today.",
    );
    assert_eq!(
        smtp_send(smtp, "bob@example.org", &[SHOP], &answer)["data"][0],
        250
    );
    assert_eq!(sessions(&http, &server, token).await.len(), 1);
    assert_eq!(
        customer_texts(&http, &server, token, session).await,
        vec![
            "Subject: Order 42\n\nHello, where is my parcel?",
            "Great, thanks!"
        ]
    );
    let session_row = get(
        &http,
        &server,
        token,
        &format!("/api/v1/sessions/{session}"),
    )
    .await;
    assert!(
        session_row.to_string().contains("\"email\""),
        "source is email (C3): {session_row}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_mail_appended_during_outages_is_stored_once_in_order() {
    let s = setup();
    let mut dovecot = Dovecot::start(&s.dir.path().join("dovecot"));
    let thread = |n: usize, text: &str| {
        let extra = if n == 1 {
            String::new()
        } else {
            format!(
                "In-Reply-To: <i{}@example.org>\nReferences: <i1@example.org>",
                n - 1
            )
        };
        mail(&format!("i{n}@example.org"), &extra, text)
    };
    // The thread's first mail shows its subject; the replies, on the same topic, do not.
    const ONE: &str = "Subject: Order 42\n\none";
    let env = [("FRONTDESK_DATA_DIR", s.data.as_str())];
    let (server, _) = start(&s.db, &env);
    let http = Http::default();
    let token = &s.token;
    create_channel(
        &http,
        &server,
        token,
        json!({"address": SHOP, "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_tls": false,
               "imap_user": IMAP_USER, "imap_password": IMAP_PASSWORD, "imap_poll_secs": 1}),
    )
    .await;
    drop(server);

    // Appended while frontdesk is down: all picked up once it is back, in order.
    dovecot.append(&[thread(1, "one"), thread(2, "two"), thread(3, "three")]);
    let (server, _) = start(&s.db, &env);
    wait_for("the three mails appended while frontdesk was down", || {
        texts_now(&http, &server, token, 3).len() == 3
    });
    assert_eq!(texts_now(&http, &server, token, 3), [ONE, "two", "three"]);

    // The IMAP server goes down; mail arrives in the mailbox meanwhile.
    dovecot.stop();
    dovecot.deliver_to_maildir(&[thread(4, "four"), thread(5, "five")], 1_796_100_000);
    dovecot.resume();
    wait_for("the mails delivered while the IMAP server was down", || {
        texts_now(&http, &server, token, 5).len() == 5
    });
    assert_eq!(
        texts_now(&http, &server, token, 5),
        [ONE, "two", "three", "four", "five"]
    );

    // A restart refetches nothing: the cursor is durable, so the new
    // process fetches only the one new mail.
    drop(server);
    dovecot.append(&[thread(6, "six")]);
    let (server, _) = start(&s.db, &env);
    wait_for("the mail appended while frontdesk was down again", || {
        texts_now(&http, &server, token, 6).len() == 6
    });
    assert_eq!(
        texts_now(&http, &server, token, 6),
        [ONE, "two", "three", "four", "five", "six"]
    );
    let body = raw_get(&server.url("/metrics")).await;
    let counter = |name: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let fetched = counter("frontdesk_imap_fetched_total");
    let repeats = counter("frontdesk_inbound_duplicates_total");
    // A lost cursor would fetch all six again (five repeats). A poll that
    // fails after its mail was stored (a commit or cursor write slowed by a
    // loaded machine) fetches that one mail again, and S3 stores it once.
    assert_eq!(fetched - repeats, 1, "exactly one new mail: {body}");
    assert!(repeats <= 1, "the old mails were not fetched again: {body}");
}

/// The customer texts of the one session there should be, checking there is
/// never more than one session or more than `want` messages (S3).
fn texts_now(http: &Http, server: &Server, token: &str, want: usize) -> Vec<String> {
    let rt = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        rt.block_on(async {
            let list = sessions(http, server, token).await;
            let Some(first) = list.first() else {
                return Vec::new();
            };
            assert_eq!(list.len(), 1, "one thread, one session: {list:?}");
            let session = first["id"].as_i64().unwrap();
            let texts = customer_texts(http, server, token, session).await;
            assert!(texts.len() <= want, "more than expected: {texts:?}");
            texts
        })
    })
}

/// A GET whose body is text, not JSON.
async fn raw_get(url: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())", url])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// O3: a customer asks for the transcript; the agent sends it to the
/// contact's address, it reaches a real SMTP server in the channel's words,
/// and the agent is named as the channel shows agents (I1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o3_the_transcript_by_email_reaches_the_customer() {
    let s = setup();
    let relay_port = free_port();
    let relay = Relay::start(relay_port, &s.dir.path().join("relay"));
    let relay_url = format!("smtp://127.0.0.1:{relay_port}");
    let env = [
        ("FRONTDESK_DATA_DIR", s.data.as_str()),
        ("FRONTDESK_SMTP_LISTEN", "127.0.0.1:0"),
        ("FRONTDESK_SMTP_RELAY", relay_url.as_str()),
        ("FRONTDESK_MAIL_FROM", "transcripts@shop.test"),
    ];
    let (server, smtp) = start(&s.db, &env);
    let http = Http::default();
    let token = &s.token;
    create_channel(
        &http,
        &server,
        token,
        json!({"address": SHOP, "agent_identity": {"mode": "channel", "name": "Shop Support"}}),
    )
    .await;
    smtp_send(
        smtp.unwrap(),
        "bob@example.org",
        &[SHOP],
        &mail("t1@example.org", "", "Where is order 42?"),
    );
    let session = sessions(&http, &server, token).await[0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/messages")),
            token,
            Some(json!({"text": "It left our warehouse today."})),
        )
        .await;
    assert_eq!(status, 202, "{body}");

    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/transcript")),
            token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sent_to"], "bob@example.org", "the contact's address");
    wait_for("the transcript at the relay", || {
        relay
            .received()
            .iter()
            .any(|m| m.contains("Your conversation with Mail"))
    });
    let transcript = relay
        .received()
        .into_iter()
        .find(|m| m.contains("Your conversation with Mail"))
        .unwrap();
    assert!(
        header(&transcript, "From")
            .unwrap()
            .contains("transcripts@shop.test"),
        "{transcript}"
    );
    assert!(
        header(&transcript, "To")
            .unwrap()
            .contains("bob@example.org"),
        "{transcript}"
    );
    assert!(
        transcript.contains("] You: Subject: Order 42"),
        "the subject opens the customer's first message: {transcript}"
    );
    assert!(transcript.contains("  Where is order 42?"), "{transcript}");
    assert!(
        transcript.contains("] Shop Support: It left our warehouse today."),
        "I1 names the agent as the channel shows them: {transcript}"
    );

    // A bad address is refused, naming it; nothing more is sent.
    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/transcript")),
            token,
            Some(json!({"email": "bob at example"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bob at example"),
        "{body}"
    );
}
