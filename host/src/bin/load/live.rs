//! `frontdesk-load --live-url ...`: many widget visitors and agent consoles
//! on one running server (issue 7).
//!
//! The server is started by the caller (with a webchat channel and
//! `FRONTDESK_RATE_LIMITS=off`: all visitors come from one address), so the
//! measured process is the server alone. The tool creates `--agents` agent
//! users in that channel's queue, opens one `/api/v1/live` socket per agent,
//! opens `--widgets` visitor WebSockets through the webchat protocol
//! (`POST /chat/{channel}/visitors`, then `/chat/{channel}/ws?token=`), and
//! has every visitor write once per `--interval-ms` (spread evenly).
//!
//! Each message is timed from the moment the visitor sends it to the moment
//! each agent socket receives its `message` frame: the time to the agent's
//! screen. The server's resident memory is read from `/proc/PID/status`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use rand::RngExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// What the live mode needs to know.
pub struct LiveArgs {
    pub url: String,
    pub admin_token: String,
    pub channel: i64,
    pub server_pid: Option<u32>,
    pub widgets: usize,
    pub agents: usize,
    pub interval_ms: u64,
    pub secs: u64,
    /// Customers write through the signed `api` channel (X3) instead of
    /// widget WebSockets: the consoles' half alone, on any server.
    pub api_secret: Option<String>,
}

/// Opens a client WebSocket with an 8 KiB read buffer. Tungstenite's default
/// (128 KiB) is zero-filled before every read, and the consoles read some
/// 10,000 frames a second on the same two cores as the server they measure.
async fn open_socket(
    request: impl IntoClientRequest + Unpin,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    Ok(socket)
}

/// Send times by message text, shared by the visitors (writers) and agents (readers).
type Sent = Arc<Mutex<HashMap<String, Instant>>>;

async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = http.request(method, &url).bearer_auth(token);
    if let Some(body) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let res = req.send().await.with_context(|| url.clone())?;
    let status = res.status();
    let value: Value = serde_json::from_slice(&res.bytes().await?).unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url} answered {status}: {value}");
    }
    Ok(value)
}

fn ws_url(base: &str, path: &str) -> String {
    format!(
        "{}{path}",
        base.replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1)
    )
}

/// The server's resident set size in MiB, from `/proc`.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Creates the agents, puts them in the channel's queue and returns their tokens.
async fn agents(http: &reqwest::Client, args: &LiveArgs) -> anyhow::Result<Vec<String>> {
    let run: u32 = rand::rng().random();
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for n in 0..args.agents {
        let body = json!({"name": format!("load-{run:x}-{n}"), "role": "agent"});
        let created = api(
            http,
            reqwest::Method::POST,
            format!("{}/api/v1/users", args.url),
            &args.admin_token,
            Some(body),
        )
        .await?;
        ids.push(created["user"]["id"].as_i64().context("user id")?);
        tokens.push(created["token"].as_str().context("token")?.to_string());
    }
    let queue_url = format!("{}/api/v1/channels/{}/queue", args.url, args.channel);
    let mut queue = api(
        http,
        reqwest::Method::GET,
        queue_url.clone(),
        &args.admin_token,
        None,
    )
    .await?;
    queue["agents"] = json!(ids);
    api(
        http,
        reqwest::Method::PUT,
        queue_url,
        &args.admin_token,
        Some(queue),
    )
    .await?;
    Ok(tokens)
}

/// One agent console: records the delay of every message frame it receives.
async fn console(
    url: String,
    token: String,
    sent: Sent,
    ready: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<Duration>> {
    let mut request = ws_url(&url, "/api/v1/live").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let mut socket = open_socket(request).await?;
    let _ = ready.send(()).await;
    let mut delays = Vec::new();
    let mut stop = stop;
    loop {
        tokio::select! {
            frame = socket.next() => {
                let Some(frame) = frame else { break };
                let at = Instant::now();
                let Message::Text(text) = frame? else { continue };
                let value: Value = serde_json::from_str(&text)?;
                if value["type"] == "message" && value["message"]["direction"] == "in" {
                    let body = value["message"]["body"].as_str().unwrap_or_default();
                    if let Some(t) = sent.lock().expect("sent lock").get(body) {
                        delays.push(at - *t);
                    }
                }
            }
            _ = stop.changed() => break,
        }
    }
    Ok(delays)
}

/// A customer of the `api` channel: a signed webhook every `interval`.
async fn api_customer(
    http: reqwest::Client,
    args: Arc<(String, i64, Duration, Duration)>,
    secret: String,
    n: usize,
    offset: Duration,
    sent: Sent,
) -> anyhow::Result<usize> {
    let (url, channel, interval, run_for) = &*args;
    let started = Instant::now();
    tokio::time::sleep(offset).await;
    let mut acked = 0;
    let mut i = 0;
    while started.elapsed() < *run_for {
        let text = format!("customer {n} message {i}");
        let body =
            json!({"message_id": format!("{n}-{i}"), "chat_id": format!("load-{n}"), "text": text})
                .to_string();
        let signature = frontdesk::ingest::sign(&secret, body.as_bytes());
        let next = tokio::time::Instant::now() + *interval;
        sent.lock().expect("sent lock").insert(text, Instant::now());
        let res = http
            .post(format!("{url}/hooks/{channel}"))
            .header(frontdesk::ingest::SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await?;
        if res.status().is_success() {
            acked += 1;
        }
        tokio::time::sleep_until(next).await;
        i += 1;
    }
    Ok(acked)
}

/// One widget visitor: writes every `interval`, first after `offset`.
async fn visitor(
    http: reqwest::Client,
    args: Arc<(String, i64, Duration, Duration)>,
    n: usize,
    offset: Duration,
    sent: Sent,
) -> anyhow::Result<usize> {
    let (url, channel, interval, run_for) = &*args;
    let res = http
        .post(format!("{url}/chat/{channel}/visitors"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await?
        .error_for_status()?;
    let created: Value = serde_json::from_slice(&res.bytes().await?)?;
    let token = created["token"].as_str().context("visitor token")?;
    let ws = ws_url(url, &format!("/chat/{channel}/ws?token={token}"));
    let mut socket = open_socket(ws).await?;
    let started = Instant::now();
    tokio::time::sleep(offset).await;
    let mut acked = 0;
    let mut i = 0;
    while started.elapsed() < *run_for {
        let text = format!("visitor {n} message {i}");
        let client_id = format!("{:032x}", rand::rng().random::<u128>());
        sent.lock()
            .expect("sent lock")
            .insert(text.clone(), Instant::now());
        let frame = json!({"type": "message", "client_id": client_id, "text": text});
        socket.send(Message::Text(frame.to_string().into())).await?;
        let deadline = tokio::time::Instant::now() + *interval;
        // Read until the next send: the ack, the visitor's own echoes, pings.
        while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, socket.next()).await {
            if let Message::Text(text) = frame?
                && let Ok(value) = serde_json::from_str::<Value>(&text)
                && value["type"] == "ack"
                && value["client_id"] == client_id.as_str()
            {
                acked += 1;
            }
        }
        i += 1;
    }
    Ok(acked)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs the live mode and prints a Markdown table.
pub async fn run(args: LiveArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let rss_before = args.server_pid.and_then(rss_mib);
    let tokens = agents(&http, &args).await?;
    let sent: Sent = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(args.agents);
    let consoles: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            tokio::spawn(console(
                args.url.clone(),
                token,
                sent.clone(),
                ready_tx.clone(),
                stop_rx.clone(),
            ))
        })
        .collect();
    for _ in 0..args.agents {
        ready_rx
            .recv()
            .await
            .context("an agent console failed to connect")?;
    }
    let interval = Duration::from_millis(args.interval_ms);
    let shared = Arc::new((
        args.url.clone(),
        args.channel,
        interval,
        Duration::from_secs(args.secs),
    ));
    let visitors: Vec<_> = (0..args.widgets)
        .map(|n| {
            let offset = interval.mul_f64(n as f64 / args.widgets as f64);
            match &args.api_secret {
                Some(secret) => tokio::spawn(api_customer(
                    http.clone(),
                    shared.clone(),
                    secret.clone(),
                    n,
                    offset,
                    sent.clone(),
                )),
                None => tokio::spawn(visitor(
                    http.clone(),
                    shared.clone(),
                    n,
                    offset,
                    sent.clone(),
                )),
            }
        })
        .collect();
    let mut acked = 0;
    for v in visitors {
        acked += v.await??;
    }
    let rss_loaded = args.server_pid.and_then(rss_mib);
    // Let the last frames arrive, then stop the consoles.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let mut delays = Vec::new();
    for c in consoles {
        delays.extend(c.await??);
    }
    delays.sort_unstable();
    let messages = sent.lock().expect("sent lock").len();
    let expected = messages * args.agents;
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!("| live load | value |");
    println!("|---|---:|");
    match args.api_secret {
        Some(_) => println!(
            "| customers on the api channel (webhooks) | {} |",
            args.widgets
        ),
        None => println!("| widget WebSockets | {} |", args.widgets),
    }
    println!("| agent consoles (/api/v1/live) | {} |", args.agents);
    println!("| customer messages sent / acked | {messages} / {acked} |");
    println!(
        "| agent events received / expected | {} / {expected} |",
        delays.len()
    );
    println!(
        "| message → agent event p50 / p99 / max | {} / {} / {} |",
        ms(percentile(&delays, 0.50)),
        ms(percentile(&delays, 0.99)),
        ms(delays.last().copied().unwrap_or_default())
    );
    if let (Some(before), Some(loaded)) = (rss_before, rss_loaded) {
        println!("| server RSS before / under load | {before:.0} MiB / {loaded:.0} MiB |");
    }
    Ok(())
}
