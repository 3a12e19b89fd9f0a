//! Issue 6, Messenger, on the real binary with the `facebook` plugin,
//! against a mock of Meta's Graph API (`support/graph_api.rs`): the
//! verification handshake, signed batched deliveries (P3, S3, S4, C3), and
//! replies through the Send API via the outbox, through outages (S5).

#[path = "support/graph_api.rs"]
mod graph_api;
#[path = "facebook_replies.rs"]
mod replies;
use crate::support;

use std::collections::BTreeMap;

use graph_api::{Failure, GraphApi, Outcome, meta_json, sign};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

const PAGE: &str = "104471652345678";
const PAGE_TOKEN: &str = "EAAGm0PX4ZCpsBA+page/token=";
const APP_SECRET: &str = "9f2a6c0e1b7d4e3f8a5b2c1d0e9f8a7b";
const VERIFY_TOKEN: &str = "my verify tökén";
const ANN: &str = "6245001234567890";
const BEN: &str = "7391009876543210";
/// A Monday morning, 09:00 UTC, in unix milliseconds.
const T0: i64 = 1_795_503_600_000;

struct World {
    server: Server,
    http: Http,
    token: String,
    channel: i64,
    graph: GraphApi,
    _dir: tempfile::TempDir,
}

/// A server on the test clock with the `facebook` plugin installed and one
/// Messenger channel pointed at a fresh Graph API mock.
async fn world(known_psids: &[&str]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("facebook", "facebook", dir.path());
    let token = admin_token(&db);
    support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let data = data.to_str().unwrap().to_string();
    let clock = T0.to_string();
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.as_str()),
            ("FRONTDESK_TEST_CLOCK", clock.as_str()),
        ],
    );
    let graph = GraphApi::start(PAGE_TOKEN, known_psids).await;
    let http = Http::default();
    let config = json!({
        "graph_base_url": graph.url(),
        "graph_version": "v24.0",
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        // The mock's "no answer" fault then costs 300 ms, not the host's 4 s.
        "send_timeout_ms": 300,
    });
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Our Page", "kind": "facebook", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    World {
        channel: created["channel"]["id"].as_i64().unwrap(),
        server,
        http,
        token,
        graph,
        _dir: dir,
    }
}

/// A text message event from `psid`, as Meta puts it in `messaging[]`.
fn text_event(psid: &str, mid: &str, text: &str, ts: i64) -> Value {
    json!({"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": ts,
           "message": {"mid": mid, "text": text}})
}

fn delivery(entries: Vec<Vec<Value>>) -> String {
    let entry: Vec<Value> = entries
        .into_iter()
        .enumerate()
        .map(|(i, messaging)| json!({"id": PAGE, "time": T0 + i as i64, "messaging": messaging}))
        .collect();
    meta_json(&json!({"object": "page", "entry": entry}))
}

impl World {
    fn hook(&self, query: &str) -> String {
        self.server.url(&format!("/hooks/{}{query}", self.channel))
    }

    /// POSTs a delivery with the given `X-Hub-Signature-256` (or none).
    async fn post(&self, body: &str, signature: Option<String>) -> (u16, Value) {
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(signature) = signature {
            headers.push(("x-hub-signature-256", signature));
        }
        self.http
            .send("POST", &self.hook(""), &headers, body.as_bytes().to_vec())
            .await
            .expect("server answered")
    }

    /// POSTs a delivery signed as Meta signs it.
    async fn deliver(&self, body: &str) -> (u16, Value) {
        self.post(body, Some(sign(APP_SECRET, body.as_bytes())))
            .await
    }

    /// Inbound messages per chat: (external id, text), oldest first; and
    /// each chat's session source.
    async fn inbound(&self) -> BTreeMap<String, (String, Vec<(String, String)>)> {
        let (status, sessions) = self
            .http
            .api(
                "GET",
                &self.server.url("/api/v1/sessions"),
                &self.token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{sessions}");
        let mut chats = BTreeMap::new();
        for s in sessions.as_array().unwrap() {
            let url = self
                .server
                .url(&format!("/api/v1/sessions/{}/messages", s["id"]));
            let (_, messages) = self.http.api("GET", &url, &self.token, None).await;
            let inbound = messages
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["direction"] == "in")
                .map(|m| {
                    // The text, then each attachment's kind in brackets.
                    let mut shown = m["body"].as_str().unwrap().to_string();
                    for a in m["attachments"].as_array().into_iter().flatten() {
                        shown.push_str(&format!("[{}]", a["kind"].as_str().unwrap()));
                    }
                    (m["external_id"].as_str().unwrap().to_string(), shown)
                })
                .collect();
            let previous = chats.insert(
                s["chat_id"].as_str().unwrap().to_string(),
                (s["source"].as_str().unwrap().to_string(), inbound),
            );
            assert!(previous.is_none(), "two open sessions for one chat");
        }
        chats
    }

    async fn reply(&self, session: i64, text: &str) -> i64 {
        let (status, body) = self
            .http
            .api(
                "POST",
                &self
                    .server
                    .url(&format!("/api/v1/sessions/{session}/messages")),
                &self.token,
                Some(json!({ "text": text })),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["message"]["id"].as_i64().unwrap()
    }

    /// The outbox item of a reply, once `ready` holds for it. The worker
    /// writes each attempt's outcome before anything else can see it, so this
    /// polls the API (with a bound), never the clock.
    async fn outbox_item(&self, message: i64, ready: impl Fn(&Value) -> bool) -> Value {
        let url = self.server.url("/api/v1/outbox?limit=1000");
        let mut last = Value::Null;
        for _ in 0..20_000 {
            let (_, items) = self.http.api("GET", &url, &self.token, None).await;
            if let Some(item) = items
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["message_id"] == message)
            {
                if ready(item) {
                    return item.clone();
                }
                last = item.clone();
            }
            tokio::task::yield_now().await;
        }
        panic!("outbox item of message {message} never got there: {last}");
    }

    /// Moves the test clock to `at` (if it is not there yet).
    async fn clock_to(&self, at: i64) {
        let url = self.server.url("/api/v1/test/clock");
        let (_, now) = self
            .http
            .api("POST", &url, &self.token, Some(json!({"advance_ms": 0})))
            .await;
        let behind = at - now["now"].as_i64().unwrap();
        let (status, body) = self
            .http
            .api(
                "POST",
                &url,
                &self.token,
                Some(json!({"advance_ms": behind.max(0)})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

/// GET with the body as text, for answers that are not JSON.
async fn get_text(url: &str) -> (u16, String, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let res = client.get(url.parse().unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_s3_handshake_batched_deliveries_repeats_and_forged_signatures() {
    let w = world(&[ANN, BEN]).await;

    // Meta's subscription handshake: the challenge comes back as text only
    // for the right verify token (sent percent-encoded, as Meta does).
    let token = "my%20verify%20t%C3%B6k%C3%A9n";
    let (status, content_type, body) = get_text(&w.hook(&format!(
        "?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
    )))
    .await;
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    assert_eq!(content_type, "text/plain");
    for query in [
        "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444",
        &format!("?hub.mode=unsubscribe&hub.verify_token={token}&hub.challenge=1"),
        "?hub.challenge=1158201444",
    ] {
        let (status, _, body) = get_text(&w.hook(query)).await;
        assert_eq!(status, 403, "{query}: {body}");
        assert!(!body.contains("1158201444"), "{body}");
    }

    // One delivery, two entries, several events: only the customers' own
    // messages count; the echo, the delivery and the read give nothing.
    let batch = delivery(vec![
        vec![
            text_event(ANN, "m_ann_1", "Hallo, wo bleibt mein Paket? 📦 ü", T0),
            json!({"sender": {"id": PAGE}, "recipient": {"id": ANN}, "timestamp": T0 + 1,
                   "message": {"mid": "m_page_echo", "is_echo": true, "app_id": 1517776481860111_i64, "text": "We are on it"}}),
            json!({"sender": {"id": ANN}, "recipient": {"id": PAGE},
                   "delivery": {"mids": ["m_page_echo"], "watermark": T0 + 1}}),
        ],
        vec![
            json!({"sender": {"id": ANN}, "recipient": {"id": PAGE}, "timestamp": T0 + 3,
                   "read": {"watermark": T0 + 1}}),
            json!({"sender": {"id": BEN}, "recipient": {"id": PAGE}, "timestamp": T0 + 4,
                   "message": {"mid": "m_ben_1", "attachments": [
                       {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/1.jpg"}}]}}),
            json!({"sender": {"id": BEN}, "recipient": {"id": PAGE}, "timestamp": T0 + 5,
                   "postback": {"mid": "m_ben_2", "title": "Talk to a human", "payload": "HUMAN"}}),
            json!({"sender": {"id": ANN}, "recipient": {"id": PAGE}, "timestamp": T0 + 6,
                   "message": {"mid": "m_ann_2", "text": "Refund", "quick_reply": {"payload": "REFUND"}}}),
        ],
    ]);
    assert!(
        batch.contains(r"\u00fc") && batch.contains(r"\ud83d\udce6"),
        "{batch}"
    );
    let (status, first) = w.deliver(&batch).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["messages"].as_array().unwrap().len(), 4, "{first}");
    let ann_session = first["messages"][0]["session_id"].clone();
    assert_eq!(first["messages"][3]["session_id"], ann_session);
    assert_ne!(first["messages"][1]["session_id"], ann_session);

    let stored = w.inbound().await;
    let expected = BTreeMap::from([
        (
            ANN.to_string(),
            (
                "facebook".to_string(),
                vec![
                    ("m_ann_1".into(), "Hallo, wo bleibt mein Paket? 📦 ü".into()),
                    ("m_ann_2".into(), "Refund".into()),
                ],
            ),
        ),
        (
            BEN.to_string(),
            (
                "facebook".to_string(),
                vec![
                    // A photo alone: no text, one image attachment.
                    ("m_ben_1".into(), "[image]".into()),
                    ("m_ben_2".into(), "Talk to a human".into()),
                ],
            ),
        ),
    ]);
    assert_eq!(stored, expected);

    // Meta retries a delivery it got no answer for: same answer, nothing new.
    let (status, again) = w.deliver(&batch).await;
    assert_eq!((status, &again), (200, &first));
    assert_eq!(w.inbound().await, expected);

    // Forged or damaged deliveries are refused and change nothing.
    let forged = delivery(vec![vec![text_event("5550001", "m_forged", "hi", T0 + 9)]]);
    let altered = batch.replace("m_ann_1", "m_ann_9");
    for (body, signature) in [
        (&forged, Some(sign("not-the-app-secret", forged.as_bytes()))),
        (&forged, None),
        (&forged, Some("sha256=".to_string())),
        (
            &forged,
            Some(sign(APP_SECRET, forged.as_bytes()).replace("sha256=", "sha1=")),
        ),
        // Signed, then changed in transit.
        (&altered, Some(sign(APP_SECRET, batch.as_bytes()))),
    ] {
        let (status, answer) = w.post(body, signature.clone()).await;
        assert_eq!(status, 403, "{signature:?}: {answer}");
        assert_eq!(answer["error"]["code"], "bad_signature", "{answer}");
    }
    assert_eq!(w.inbound().await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_replies_reach_the_send_api_and_survive_outages_exactly_once() {
    let w = world(&[ANN]).await;
    let (status, answer) = w
        .deliver(&delivery(vec![vec![text_event(ANN, "m_1", "Hi!", T0)]]))
        .await;
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();

    // An agent's reply goes out through the Send API with the Page token.
    let reply = w.reply(session, "Agent: your parcel ships today").await;
    let sends = w.graph.wait_for_sends("Agent: your parcel", 1).await;
    let call = &sends[0];
    assert_eq!(call.path, "/v24.0/me/messages");
    assert_eq!(call.query["access_token"], PAGE_TOKEN);
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
    assert_eq!(call.body["recipient"]["id"], ANN);
    assert_eq!(call.body["messaging_type"], "RESPONSE");
    assert!(call.delivered(), "{call:?}");
    w.outbox_item(reply, |i| i["state"] == "sent").await;

    // An outage: two 500s, a send that never gets an answer, and Meta's
    // rate limit (613). Each failure is retried from the outbox after its
    // backoff (the test clock skips the wait), and the reply is delivered once.
    let faults = [
        Failure::ServerError,
        Failure::ServerError,
        Failure::Timeout,
        Failure::RateLimit,
    ];
    for fault in faults {
        w.graph.fail(fault, 1, "outage");
    }
    let reply = w.reply(session, "Agent: outage or not, we are on it").await;
    for (attempt, fault) in faults.iter().enumerate() {
        let sends = w.graph.wait_for_sends("outage", attempt + 1).await;
        assert_eq!(sends[attempt].outcome, Outcome::Failed(*fault));
        let item = w
            .outbox_item(reply, |i| i["attempts"] == attempt as i64 + 1)
            .await;
        assert_eq!(item["state"], "pending", "{item}");
        assert!(
            !item["last_error"].as_str().unwrap_or("").is_empty(),
            "{item}"
        );
        w.clock_to(item["next_attempt_at"].as_i64().unwrap()).await;
    }
    let sends = w.graph.wait_for_sends("outage", faults.len() + 1).await;
    let item = w.outbox_item(reply, |i| i["state"] == "sent").await;
    assert_eq!(item["attempts"], faults.len() as i64 + 1, "{item}");
    let delivered: Vec<_> = sends.iter().filter(|c| c.delivered()).collect();
    assert_eq!(delivered.len(), 1, "{sends:#?}");
    assert_eq!(w.graph.sends_with("outage").len(), faults.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_a_permanent_graph_error_ends_failed_without_retries() {
    // The mock knows no customer: Meta answers (#100) No matching user found.
    let w = world(&[]).await;
    let (status, answer) = w
        .deliver(&delivery(vec![vec![text_event(BEN, "m_1", "Hello?", T0)]]))
        .await;
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    let reply = w.reply(session, "Agent: permanent trouble ahead").await;
    let item = w.outbox_item(reply, |i| i["state"] == "failed").await;
    assert_eq!(item["attempts"], 1, "{item}");
    let error = item["last_error"].as_str().unwrap();
    assert!(
        error.contains("No matching user found") && error.contains("2018001"),
        "{error}"
    );
    let (status, failed) = w
        .http
        .api(
            "GET",
            &w.server.url("/api/v1/outbox?state=failed"),
            &w.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{failed}");
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["message_id"] == reply),
        "{failed}"
    );
    let sends = w.graph.sends_with("permanent trouble");
    assert_eq!(sends.len(), 1, "{sends:#?}");
    assert_eq!(
        sends[0].outcome,
        Outcome::Refused {
            status: 400,
            code: 100
        }
    );
}

/// The plugin's own calls, straight through the plugin host: `setup`
/// subscribes the Page to its webhook fields, and attachments are fetched
/// only from hosts the manifest allows (here the mock stands in for Meta's CDN).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_subscribes_the_page_and_attachments_come_only_from_allowed_hosts() {
    use frontdesk_plugin_host::types::{Attachment, AttachmentKind, Channel, ConnectorError};
    use frontdesk_plugin_host::{HostConfig, Package, PluginHost};

    let dir = tempfile::tempdir().unwrap();
    let graph = GraphApi::start(PAGE_TOKEN, &[]).await;
    let host = PluginHost::open(HostConfig::new(dir.path().join("data"))).unwrap();
    let package = Package::from_dir(&plugin_package("facebook", "facebook", dir.path())).unwrap();
    host.install(&package).unwrap();
    let channel = Channel {
        id: "1".into(),
        plugin: "facebook".into(),
        config: json!({
            "graph_base_url": graph.url(),
            "page_access_token": PAGE_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        }),
    };

    let served = host
        .setup(&channel, "https://support.example.org/hooks/1")
        .await
        .unwrap();
    assert!(served.value.is_ok(), "{:?}", served.value);
    let calls = graph.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    // The default Graph version, the Page token, and the fields the README names.
    assert_eq!(calls[0].path, "/v24.0/me/subscribed_apps");
    assert_eq!(calls[0].query["access_token"], PAGE_TOKEN);
    assert_eq!(
        calls[0].query["subscribed_fields"],
        "messages,messaging_postbacks,message_edits"
    );

    let attachment = |url: String| Attachment {
        kind: AttachmentKind::Image,
        url: Some(url),
        provider_file_id: None,
        file_name: None,
        mime_type: None,
        size_bytes: None,
        data: None,
    };
    let fetched = host
        .fetch_attachment(
            &channel,
            &attachment(format!("{}/cdn/v/t1/photo.jpg", graph.url())),
        )
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(fetched.body, graph_api::CDN_BYTES);
    assert_eq!(fetched.mime_type.as_deref(), Some("image/jpeg"));
    // Same port, other address: not on the allow-list, refused before any
    // socket opens (the host checks the list first).
    let elsewhere = graph.url().replace("127.0.0.1", "127.0.0.2");
    let refused = host
        .fetch_attachment(&channel, &attachment(format!("{elsewhere}/cdn/x.jpg")))
        .await
        .unwrap()
        .value;
    assert!(
        matches!(&refused, Err(ConnectorError::Permanent(m)) if m.contains("host not allowed")),
        "{refused:?}"
    );
}
