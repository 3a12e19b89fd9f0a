//! The fetch worker with the real `echo` connector (its `fetch-attachment`
//! is the SDK default: GET the url through the allow-listed `http` import)
//! against loopback HTTP servers, on a manual clock; and who may download.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use frontdesk_plugin_host::{HostConfig, Package, PluginHost};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

use crate::api::{AppState, app};
use crate::app::{App, Config};
use crate::auth::{new_token, token_hash};
use crate::clock::ManualClock;
use crate::store::{AttachmentInfo, AttachmentState, NewChannel, Queue, Role, Viewer};
use crate::test_support::sqlite_store;

const T0: i64 = 1_795_503_600_000;
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture";
/// Over the plugin host's per-call output cap (1 MiB), under the attachment cap.
const LARGE: usize = 3 << 20;

/// The echo connector's package, built once per test binary.
fn echo_package() -> Package {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm = WASM.get_or_init(|| {
        let dir = frontdesk_plugin_host::guest_build::build_guests(&root, Some("echo"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::read(dir.join("echo.wasm")).expect("echo.wasm was built")
    });
    let manifest = std::fs::read_to_string(root.join("plugins/echo/manifest.toml")).unwrap();
    Package::from_parts(&manifest, wasm.clone()).expect("echo's manifest is valid")
}

/// The provider's file server; reports every path it is asked for.
/// `flaky.txt` answers 503 the first time.
async fn provider() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let first = Arc::new(AtomicBool::new(true));
    let files = get(move |UrlPath(name): UrlPath<String>| {
        let (tx, first) = (tx.clone(), first.clone());
        async move {
            tx.send(name.clone()).unwrap();
            match name.as_str() {
                "photo.png" => ([("content-type", "image/png")], PNG.to_vec()).into_response(),
                "big.bin" => vec![7u8; 4096].into_response(),
                "large.bin" => vec![1u8; LARGE].into_response(),
                "flaky.txt" if first.swap(false, Ordering::SeqCst) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response()
                }
                "flaky.txt" => ([("content-type", "text/plain")], "hello").into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let router = Router::new().route("/files/{name}", files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, rx)
}

struct World {
    state: AppState,
    app: Router,
    clock: Arc<ManualClock>,
    channel: i64,
    provider: String,
    asked: mpsc::UnboundedReceiver<String>,
    admin: String,
    agent: String,
    stranger: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// An echo channel whose provider is the loopback file server, an agent in
/// its queue, an agent of another channel, and the fetch worker running.
async fn world(max_attachment_bytes: usize) -> World {
    let (provider, asked) = provider().await;
    let (store, db_dir) = sqlite_store().await;
    let plugin_dir = tempfile::tempdir().unwrap();
    let mut config = HostConfig::new(plugin_dir.path());
    config.limits.max_attachment_bytes = max_attachment_bytes;
    let host = PluginHost::open(config).unwrap();
    host.install(&echo_package()).unwrap();

    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (name, role) in [
        ("ada", Role::Admin),
        ("bo", Role::Agent),
        ("cy", Role::Agent),
    ] {
        let token = new_token();
        ids.push(
            store
                .create_user(name, role, &token_hash(&token), 0)
                .await
                .unwrap()
                .id,
        );
        tokens.push(token);
    }
    let echo = NewChannel {
        name: "Echo".into(),
        kind: "echo".into(),
        secret: "unused".into(),
        config: json!({"api_base_url": provider, "token": "tok"}).to_string(),
    };
    let channel = store.create_channel(ids[0], &echo, 0).await.unwrap().id;
    let other = NewChannel {
        name: "Other".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let other = store.create_channel(ids[0], &other, 0).await.unwrap().id;
    for (ch, agent) in [(channel, ids[1]), (other, ids[2])] {
        let queue = Queue {
            agents: vec![agent],
            ..Queue::default()
        };
        store.set_queue(ids[0], ch, &queue, 0).await.unwrap();
    }
    let clock = Arc::new(ManualClock::new(T0));
    let state = AppState {
        test_clock: Some(clock.clone()),
        ..AppState::new(
            App::start(Config {
                plugins: Some(host),
                fetch_attachments: true,
                ..Config::new(store, clock.clone())
            })
            .await
            .unwrap(),
        )
    };
    let stranger = tokens.pop().unwrap();
    let agent = tokens.pop().unwrap();
    let admin = tokens.pop().unwrap();
    World {
        app: app(state.clone()),
        state,
        clock,
        channel,
        provider,
        asked,
        admin,
        agent,
        stranger,
        _dirs: (db_dir, plugin_dir),
    }
}

impl World {
    /// A customer message with these attachments, through the webhook;
    /// returns its attachments as the messages API lists them.
    async fn receive(&self, id: &str, attachments: Value) -> Vec<AttachmentInfo> {
        let body = json!({"messages": [{"chat": "c1", "id": id, "from": {"id": "u1"}, "attachments": attachments}]});
        let request = Request::post(format!("/hooks/{}", self.channel))
            .header("x-echo-token", "tok")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, _, answer) = self.call(request).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        let (session, message) = (
            answer["messages"][0]["session_id"].as_i64().unwrap(),
            answer["messages"][0]["message_id"].as_i64().unwrap(),
        );
        let messages = self.state.store.messages(session, 0, 100).await.unwrap();
        let stored = messages.into_iter().find(|m| m.id == message).unwrap();
        assert_eq!(
            stored.body, "",
            "no placeholder text for a message of attachments only"
        );
        stored.attachments
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body.to_vec())
    }

    async fn download(&self, id: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = Request::get(format!("/api/v1/attachments/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.call(request).await
    }

    /// Waits (on real progress, bounded by a deadline) until attachment `id`
    /// satisfies `done`, and returns it.
    async fn until(&self, id: &str, done: impl Fn(&AttachmentInfo) -> bool) -> AttachmentInfo {
        let admin = Viewer {
            user_id: 1,
            role: Role::Admin,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let file = self
                .state
                .store
                .attachment_file(admin, id)
                .await
                .unwrap()
                .unwrap();
            if done(&file.info) {
                return file.info;
            }
            assert!(
                Instant::now() < deadline,
                "attachment never got there: {:?}",
                file.info
            );
            tokio::task::yield_now().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetched_attachment_is_stored_with_its_content_type_and_served_only_to_who_may_see_it() {
    let mut w = world(4 << 20).await;
    let url = format!("{}/files/photo.png", w.provider);
    let files = w
        .receive(
            "m1",
            json!([{"kind": "image", "url": url, "name": "photo.png", "mime": "image/jpeg"}]),
        )
        .await;
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].kind.as_str(), files[0].file_name.as_deref()),
        ("image", Some("photo.png"))
    );
    let stored = w
        .until(&files[0].id, |a| a.state == AttachmentState::Stored)
        .await;
    assert_eq!(
        (stored.mime_type.as_deref(), stored.size),
        (Some("image/png"), Some(PNG.len() as i64)),
        "the type the provider served wins over the declared one"
    );
    assert_eq!(w.asked.recv().await.unwrap(), "photo.png");

    for token in [&w.admin, &w.agent] {
        let (status, headers, body) = w.download(&files[0].id, token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, PNG);
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'none'; sandbox"
        );
    }
    // P2: an agent of another channel learns nothing, not even that it exists.
    let (status, _, forbidden) = w.download(&files[0].id, &w.stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unknown_id = "0".repeat(32);
    let (status, _, unknown) = w.download(&unknown_id, &w.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let forbidden = String::from_utf8(forbidden)
        .unwrap()
        .replace(&files[0].id, "ID");
    let unknown = String::from_utf8(unknown)
        .unwrap()
        .replace(&unknown_id, "ID");
    assert_eq!(forbidden, unknown);
    assert!(forbidden.contains("attachment_not_found"), "{forbidden}");
    let request = Request::get(format!("/api/v1/attachments/{}", files[0].id))
        .body(Body::empty())
        .unwrap();
    assert_eq!(w.call(request).await.0, StatusCode::UNAUTHORIZED);

    // Fetches have their own limits: more than any other call may return.
    let url = format!("{}/files/large.bin", w.provider);
    let files_2 = w
        .receive("m2", json!([{"kind": "video", "url": url}]))
        .await;
    let large = w
        .until(&files_2[0].id, |a| a.state != AttachmentState::Pending)
        .await;
    assert_eq!(
        (large.state.as_str(), large.size),
        ("stored", Some(LARGE as i64)),
        "{large:?}"
    );

    let request = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let openapi = String::from_utf8(w.call(request).await.2).unwrap();
    assert!(openapi.contains("/api/v1/attachments/{id}") && openapi.contains("AttachmentInfo"));

    // The messages API lists it with its state.
    let request = Request::get("/api/v1/sessions/1/messages")
        .header("authorization", format!("Bearer {}", w.agent))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        listed[0]["attachments"][0],
        json!({"id": files[0].id, "kind": "image", "file_name": "photo.png", "mime_type": "image/png",
               "size": PNG.len(), "state": "stored", "error": null})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_over_the_size_cap_is_failed_with_the_reason_and_not_retried() {
    let mut w = world(1000).await;
    let big = format!("{}/files/big.bin", w.provider);
    let files = w.receive("m1", json!([{"kind": "file", "url": big}])).await;
    let failed = w
        .until(&files[0].id, |a| a.state == AttachmentState::Failed)
        .await;
    let error = failed.error.unwrap();
    assert!(
        error.contains("larger than the limit of 1000 bytes")
            && error.contains("--max-attachment-bytes"),
        "{error}"
    );
    assert_eq!(w.asked.recv().await.unwrap(), "big.bin");
    let (status, _, body) = w.download(&files[0].id, &w.admin).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(String::from_utf8_lossy(&body).contains("larger than the limit"));

    // Declared over the cap: failed at once, the provider is not even asked.
    let declared = format!("{}/files/photo.png", w.provider);
    let files = w
        .receive(
            "m2",
            json!([{"kind": "video", "url": declared, "size": 5000}]),
        )
        .await;
    assert_eq!(files[0].state, AttachmentState::Failed);
    assert!(
        files[0]
            .error
            .as_deref()
            .unwrap()
            .contains("5000 bytes, over the limit of 1000")
    );

    // Nothing is fetched again, however long we wait.
    w.clock.advance(24 * 3_600_000);
    w.state.attachments.notify_one();
    assert_eq!(w.state.store.next_attachment_due().await.unwrap(), None);
    assert!(w.asked.try_recv().is_err(), "no second request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_outside_the_allow_list_is_refused_and_never_requested() {
    let w = world(1 << 20).await;
    // Another host (port) than the channel's api_base_url, the only one echo may call.
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    outside.set_nonblocking(true).unwrap();
    let url = format!("http://{}/files/photo.png", outside.local_addr().unwrap());
    let files = w
        .receive("m1", json!([{"kind": "image", "url": url}]))
        .await;
    let failed = w
        .until(&files[0].id, |a| a.state == AttachmentState::Failed)
        .await;
    assert!(
        failed.error.as_deref().unwrap().contains("not allowed"),
        "{failed:?}"
    );
    // A connection attempt would wait in the accept queue; there is none.
    match outside.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the outside host was contacted: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_after_its_backoff_then_stored() {
    let mut w = world(1 << 20).await;
    let url = format!("{}/files/flaky.txt", w.provider);
    let files = w
        .receive(
            "m1",
            json!([{"kind": "file", "url": url, "name": "notes.txt"}]),
        )
        .await;
    let waiting = w
        .until(&files[0].id, |a| {
            a.error.as_deref().is_some_and(|e| e.contains("503"))
        })
        .await;
    assert_eq!(waiting.state, AttachmentState::Pending);
    assert_eq!(w.asked.recv().await.unwrap(), "flaky.txt");
    assert_eq!(
        w.state.store.next_attachment_due().await.unwrap(),
        Some(T0 + crate::outbox::backoff_ms(0))
    );

    w.clock.advance(crate::outbox::backoff_ms(0));
    let stored = w
        .until(&files[0].id, |a| a.state == AttachmentState::Stored)
        .await;
    assert_eq!(
        (stored.mime_type.as_deref(), stored.size, stored.error),
        (Some("text/plain"), Some(5), None)
    );
    assert_eq!(w.asked.recv().await.unwrap(), "flaky.txt");
    let (status, _, body) = w.download(&files[0].id, &w.agent).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"hello"[..]));
}
