//! `frontdesk-load --outbox-crash`: how late agent replies reach a slow
//! `api` receiver across `kill -9`, and how many arrive twice per crash
//! (issue 22 item 3). The same load runs first with no crash, as the
//! baseline of the same run.
//!
//! Each phase starts the real `frontdesk serve` (a fresh SQLite database),
//! opens `--chats` sessions on an `api` channel whose receiver answers after
//! `--callback-delay-ms`, and has an agent reply at `--reply-rate` per
//! second. In the crash phase the server is killed with SIGKILL every
//! `--cycle-ms` and started again at once. A reply counts from its `202` to
//! its first arrival at the receiver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use frontdesk::ingest::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use serde_json::{Value, json};

/// What `--outbox-crash` measures with.
pub struct OutboxArgs {
    /// The `frontdesk` binary to run.
    pub server_bin: PathBuf,
    pub kills: usize,
    pub cycle_ms: u64,
    pub reply_rate: f64,
    pub chats: usize,
    pub callback_delay_ms: u64,
}

/// First arrival and how many times, per delivery id.
type Arrivals = Arc<Mutex<HashMap<i64, (Instant, usize)>>>;

struct Outcome {
    acknowledged: usize,
    delays: Vec<Duration>,
    twice: usize,
    missing: usize,
}

pub async fn run(args: OutboxArgs) -> anyhow::Result<()> {
    let baseline = phase(&args, 0).await?;
    let crashes = phase(&args, args.kills).await?;
    println!("| phase | replies | p50 | p99 | max | delivered twice | per crash | never arrived |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, kills, o) in [
        ("no crash (baseline)", 0, &baseline),
        ("kill -9", args.kills, &crashes),
    ] {
        let per_crash = if kills == 0 {
            "".to_string()
        } else {
            format!("{:.1}", o.twice as f64 / kills as f64)
        };
        println!(
            "| {name}{} | {} | {} | {} | {} | {} | {per_crash} | {} |",
            if kills > 0 {
                format!(" ×{kills}")
            } else {
                String::new()
            },
            o.acknowledged,
            ms(percentile(&o.delays, 0.50)),
            ms(percentile(&o.delays, 0.99)),
            ms(o.delays.last().copied().unwrap_or_default()),
            o.twice,
            o.missing,
        );
    }
    let ratio = percentile(&crashes.delays, 0.99).as_secs_f64()
        / percentile(&baseline.delays, 0.99).as_secs_f64().max(1e-9);
    println!(
        "\np99 across kill -9 is {ratio:.1}× the baseline's; receiver answers after {} ms; {} replies/s over {} chats.",
        args.callback_delay_ms, args.reply_rate, args.chats
    );
    Ok(())
}

async fn phase(args: &OutboxArgs, kills: usize) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let db = format!("sqlite://{}", dir.path().join("outbox.db").display());
    let data = dir.path().join("data");
    let token = admin_token(&args.server_bin, &db)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let base = format!("http://{addr}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let (callback, arrivals) = receiver(Duration::from_millis(args.callback_delay_ms)).await?;

    let start = || serve(&args.server_bin, &db, &data, addr);
    let mut server = start()?;
    healthy(&http, &base).await?;
    let created = api(
        &http,
        &base,
        &token,
        "/api/v1/channels",
        json!({"name": "Load", "config": {"callback_url": callback}}),
    )
    .await?;
    let channel = created["channel"]["id"].as_i64().context("channel id")?;
    let secret = created["secret"].as_str().context("secret")?.to_string();
    let mut sessions = Vec::new();
    for c in 0..args.chats {
        let body =
            json!({"message_id": format!("m{c}"), "chat_id": format!("chat-{c}"), "text": "hello"})
                .to_string();
        let answer: Value = http
            .post(format!("{base}/hooks/{channel}"))
            .header(SIGNATURE_HEADER, sign(&secret, body.as_bytes()))
            .body(body)
            .send()
            .await?
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))?;
        sessions.push(
            answer["messages"][0]["session_id"]
                .as_i64()
                .context("session id")?,
        );
    }

    // The sessions' own notices (R11: nobody can take it) go out first, so
    // the replies are measured on their own.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending = get(&http, &base, &token, "/api/v1/outbox?state=pending").await?;
        if pending.as_array().is_some_and(|items| items.is_empty()) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the sessions' notices were not delivered within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The agent replies at a steady rate while the server lives and dies.
    let acks: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let running = Duration::from_millis(args.cycle_ms) * (args.kills as u32 + 1);
    let replies = tokio::spawn({
        let (http, base, token, acks) = (http.clone(), base.clone(), token.clone(), acks.clone());
        let gap = Duration::from_secs_f64(1.0 / args.reply_rate);
        async move {
            let began = Instant::now();
            let mut tick = tokio::time::interval(gap);
            let mut n = 0usize;
            while began.elapsed() < running {
                tick.tick().await;
                let session = sessions[n % sessions.len()];
                n += 1;
                let url = format!("/api/v1/sessions/{session}/messages");
                // Refused while the server restarts: not acknowledged, not counted.
                if let Ok(answer) = api(
                    &http,
                    &base,
                    &token,
                    &url,
                    json!({"text": format!("reply {n}")}),
                )
                .await
                    && let Some(id) = answer["outbox"]["id"].as_i64()
                {
                    acks.lock().unwrap().insert(id, Instant::now());
                }
            }
        }
    });
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(args.cycle_ms)).await;
        server.kill()?;
        server.wait()?;
        server = start()?;
        healthy(&http, &base).await?;
    }
    replies.await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let missing = loop {
        let missing = {
            let (acks, arrivals) = (acks.lock().unwrap(), arrivals.lock().unwrap());
            acks.keys().filter(|id| !arrivals.contains_key(id)).count()
        };
        if missing == 0 || Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = server.kill();
    let _ = server.wait();
    let (acks, arrivals) = (acks.lock().unwrap(), arrivals.lock().unwrap());
    let mut delays: Vec<Duration> = acks
        .iter()
        .filter_map(|(id, acked)| {
            arrivals
                .get(id)
                .map(|(at, _)| at.saturating_duration_since(*acked))
        })
        .collect();
    delays.sort();
    let twice = acks
        .keys()
        .filter(|id| arrivals.get(id).is_some_and(|(_, n)| *n > 1))
        .count();
    Ok(Outcome {
        acknowledged: acks.len(),
        delays,
        twice,
        missing,
    })
}

fn admin_token(bin: &PathBuf, db: &str) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(["user", "add", "load", "--role", "admin"])
        .env("FRONTDESK_DATABASE", db)
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!("user add failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8(out.stdout)?;
    Ok(stdout.lines().last().context("token line")?.to_string())
}

fn serve(
    bin: &PathBuf,
    db: &str,
    data: &std::path::Path,
    addr: SocketAddr,
) -> anyhow::Result<Child> {
    Command::new(bin)
        .args(["serve", "--listen", &addr.to_string()])
        .env("FRONTDESK_DATABASE", db)
        .env("FRONTDESK_DATA_DIR", data)
        .env("FRONTDESK_LOG", "warn")
        // The receiver is on loopback, which callbacks may reach only so.
        .env("FRONTDESK_ALLOW_PRIVATE_CALLBACKS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))
}

/// Polls `/healthz` until it answers (a restart takes a moment).
async fn healthy(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the server did not come up within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn api(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> anyhow::Result<Value> {
    let response = http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

/// The channel's receiver: records each delivery's first arrival and count,
/// answers 200 after `delay`.
async fn receiver(delay: Duration) -> anyhow::Result<(String, Arrivals)> {
    let arrivals: Arrivals = Arc::default();
    let app = Router::new().route(
        "/callback",
        post({
            let arrivals = arrivals.clone();
            move |headers: HeaderMap, _body: Bytes| {
                let arrivals = arrivals.clone();
                async move {
                    let id = headers
                        .get(DELIVERY_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i64>().ok());
                    if let Some(id) = id {
                        arrivals
                            .lock()
                            .unwrap()
                            .entry(id)
                            .or_insert((Instant::now(), 0))
                            .1 += 1;
                    }
                    tokio::time::sleep(delay).await;
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/callback", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, arrivals))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
