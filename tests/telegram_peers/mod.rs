//! The Telegram side of `tests/telegram.rs`: the npm `telegram-test-api`
//! emulator, and a small front the test controls between frontdesk and it.
//!
//! The emulator serves the Bot API under `/bot{token}/...` and a client API
//! for "users" (`/sendMessage`, `/getUpdates`). It pushes a user's message
//! to the URL `setWebhook` registered, but without the
//! `X-Telegram-Bot-Api-Secret-Token` header Telegram sends (4.2.1 keeps the
//! `secret_token` it was given and never uses it). So the webhook URL
//! frontdesk registers points at the front (`--public-url`), which adds the
//! header with the secret it saw in the `setWebhook` call, as Telegram does,
//! and passes the push on to frontdesk.
//!
//! The front also passes Bot API calls to the emulator, or answers them
//! itself as Telegram does when it is down (502) or flood-limited (429 with
//! `retry_after`), and records every call so the test waits on signals.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::watch;

/// How long any awaited signal may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The emulator process, killed when dropped.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    /// Starts it with node on a free port and waits for its "listening" line.
    pub fn start() -> Emulator {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers");
        assert!(
            peers.join("node_modules/telegram-test-api").exists(),
            "npm install --prefix tests/peers first (.ci/run does)"
        );
        // A failed webhook push is an unhandled rejection in the emulator,
        // which would end node; log it instead, so a refused push is a test
        // assertion and not a dead peer.
        let script = r#"
            const TelegramServer = require('telegram-test-api');
            process.on('unhandledRejection', (e) => console.error('emulator: ' + e));
            const server = new TelegramServer({port: Number(process.env.PORT), host: '127.0.0.1', storeTimeout: 3600});
            server.start().then(() => console.log('listening ' + server.config.apiURL));
        "#;
        let mut child = Command::new("node")
            .arg("-e")
            .arg(script)
            .current_dir(&peers)
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node (is it installed?)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("emulator exited before listening")
                .expect("read emulator output");
            if let Some(url) = line.strip_prefix("listening ") {
                break url.to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Emulator { child, url }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the front answers Bot API calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Passed to the emulator.
    Pass,
    /// Telegram is down: 502 from its load balancer, an HTML page.
    Down,
    /// The next call gets Telegram's flood-control answer, then `Pass`.
    FloodOnce { retry_after: u64 },
    /// Every call is refused as Telegram refuses a wrong bot token.
    BadToken,
}

/// One Bot API call as the front saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
    pub status: u16,
}

/// One webhook push as the front relayed it.
#[derive(Debug, Clone)]
pub struct Push {
    pub body: Bytes,
    pub status: u16,
}

/// The front's shared state.
pub struct Front {
    pub addr: SocketAddr,
    emulator: String,
    frontdesk: Mutex<Option<SocketAddr>>,
    mode: Mutex<Mode>,
    /// The last `setWebhook` parameters.
    pub webhook: Mutex<Option<Value>>,
    calls: watch::Sender<Vec<Call>>,
    pushes: watch::Sender<Vec<Push>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Front {
    /// Binds a free port and serves until the test ends.
    pub async fn start(emulator: &str) -> Arc<Front> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front = Arc::new(Front {
            addr: listener.local_addr().unwrap(),
            emulator: emulator.trim_end_matches('/').to_string(),
            frontdesk: Mutex::new(None),
            mode: Mutex::new(Mode::Pass),
            webhook: Mutex::new(None),
            calls: watch::Sender::new(Vec::new()),
            pushes: watch::Sender::new(Vec::new()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(front.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        front
    }

    /// The Bot API base URL frontdesk's channel is configured with.
    pub fn api_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The public URL frontdesk registers webhooks under.
    pub fn public_url(&self) -> String {
        format!("http://{}/relay", self.addr)
    }

    pub fn relay_to(&self, frontdesk: SocketAddr) {
        *self.frontdesk.lock().unwrap() = Some(frontdesk);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Waits until a Bot API call matching `pred` was answered; returns it.
    pub async fn wait_call(&self, what: &str, pred: impl Fn(&Call) -> bool) -> Call {
        let mut rx = self.calls.subscribe();
        tokio::time::timeout(DEADLINE, rx.wait_for(|calls| calls.iter().any(&pred)))
            .await
            .unwrap_or_else(|_| panic!("no Bot API call: {what}; saw {:?}", self.calls.borrow()))
            .unwrap()
            .iter()
            .find(|c| pred(c))
            .cloned()
            .unwrap()
    }

    /// Every call so far that matches `pred`.
    pub fn calls(&self, pred: impl Fn(&Call) -> bool) -> Vec<Call> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| pred(c))
            .cloned()
            .collect()
    }

    /// Waits until `n` webhook pushes were relayed; returns them.
    pub async fn wait_pushes(&self, n: usize) -> Vec<Push> {
        let mut rx = self.pushes.subscribe();
        tokio::time::timeout(DEADLINE, rx.wait_for(|p| p.len() >= n))
            .await
            .unwrap_or_else(|_| panic!("fewer than {n} webhook pushes arrived"))
            .unwrap()
            .clone()
    }
}

async fn handle(State(front): State<Arc<Front>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let content_type = request.headers().get("content-type").cloned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    if let Some(hook) = path.strip_prefix("/relay") {
        return relay(&front, hook, body).await;
    }
    let method = path.rsplit('/').next().unwrap_or_default().to_string();
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if method == "setWebhook" {
        *front.webhook.lock().unwrap() = Some(json_body.clone());
    }
    let mode = {
        let mut mode = front.mode.lock().unwrap();
        let now = *mode;
        if matches!(now, Mode::FloodOnce { .. }) {
            *mode = Mode::Pass;
        }
        now
    };
    let (status, answer) = match mode {
        Mode::Pass => forward(&front, &path, content_type, body).await,
        Mode::Down => (
            502,
            Bytes::from_static(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        ),
        Mode::FloodOnce { retry_after } => (
            429,
            Bytes::from(
                json!({"ok": false, "error_code": 429,
                       "description": format!("Too Many Requests: retry after {retry_after}"),
                       "parameters": {"retry_after": retry_after}})
                .to_string(),
            ),
        ),
        Mode::BadToken => (
            401,
            Bytes::from_static(br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#),
        ),
    };
    front.calls.send_modify(|calls| {
        calls.push(Call {
            method,
            body: json_body,
            status,
        })
    });
    let mut response = (StatusCode::from_u16(status).unwrap(), answer).into_response();
    let kind = if mode == Mode::Down {
        "text/html"
    } else {
        "application/json"
    };
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(kind));
    response
}

async fn forward(
    front: &Front,
    path: &str,
    content_type: Option<HeaderValue>,
    body: Bytes,
) -> (u16, Bytes) {
    let mut request = hyper::Request::post(format!("{}{path}", front.emulator));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = front
        .client
        .request(request.body(Full::new(body)).unwrap())
        .await
        .expect("emulator answers");
    let status = response.status().as_u16();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// Passes the emulator's webhook push to frontdesk, with the secret header
/// Telegram adds.
async fn relay(front: &Front, hook: &str, body: Bytes) -> Response {
    let frontdesk = front
        .frontdesk
        .lock()
        .unwrap()
        .expect("relay_to was called");
    let secret = front
        .webhook
        .lock()
        .unwrap()
        .as_ref()
        .and_then(|w| w["secret_token"].as_str().map(str::to_owned));
    let mut request = hyper::Request::post(format!("http://{frontdesk}{hook}"))
        .header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header("x-telegram-bot-api-secret-token", secret);
    }
    let response = front
        .client
        .request(request.body(Full::new(body.clone())).unwrap())
        .await
        .expect("frontdesk answers");
    let status = response.status().as_u16();
    let answer = response.into_body().collect().await.unwrap().to_bytes();
    front
        .pushes
        .send_modify(|pushes| pushes.push(Push { body, status }));
    (StatusCode::from_u16(status).unwrap(), Body::from(answer)).into_response()
}
