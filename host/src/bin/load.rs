//! `frontdesk-load`: how many inbound messages per second frontdesk acknowledges
//! after a durable commit, against the raw SQLite baselines measured in the same run.
//!
//! Phases, each on a fresh SQLite file with the server's durability (WAL,
//! `synchronous=FULL`):
//! 1. raw: the same inserts straight through the store, one commit per message;
//! 2. raw, batched: the same, 512 messages per commit (group commit's ceiling);
//! 3. HTTP, saturated: signed webhooks from many keep-alive connections;
//! 4. HTTP, half load: a paced stream at half the saturated rate, for latency.
//!
//! Run it with `cargo run --release --bin frontdesk-load`.
//!
//! With `--live-url` it instead puts widget visitors and agent consoles on a
//! running server (see `load/live.rs`):
//! `frontdesk-load --live-url http://127.0.0.1:8080 --admin-token T --channel 3 --server-pid PID`.
//!
//! With `--outbox-crash` it measures agent replies to a slow receiver across
//! `kill -9` of a real `frontdesk serve` (see `load/outbox.rs`):
//! `frontdesk-load --outbox-crash --kills 10`.
//!
//! With `--failover` it times routing hand-overs between three nodes on one
//! PostgreSQL (see `load/failover.rs`):
//! `frontdesk-load --failover --kills 20 --postgres postgres://postgres@127.0.0.1/test`.

#[path = "load/failover.rs"]
mod failover;
#[path = "load/live.rs"]
mod live;
#[path = "load/outbox.rs"]
mod outbox;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use frontdesk::api::AppState;
use frontdesk::app::App;
use frontdesk::clock::{Clock, SystemClock};
use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use frontdesk::store::{self, InboundMessage, IngestItem, NewChannel, Sender, Store};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(about = "Measures durable inbound throughput and latency against raw SQLite")]
struct Args {
    /// Messages for the saturated HTTP phase.
    #[arg(long, default_value_t = 60_000)]
    messages: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 128)]
    connections: usize,
    /// Distinct chats the messages spread over.
    #[arg(long, default_value_t = 1_000)]
    chats: usize,
    /// Messages for the one-commit-per-message baseline.
    #[arg(long, default_value_t = 5_000)]
    raw_messages: usize,
    /// How long the half-load phase runs, in seconds.
    #[arg(long, default_value_t = 5)]
    half_load_secs: u64,
    /// Live mode: the running server to load with widgets and consoles.
    #[arg(long)]
    live_url: Option<String>,
    /// Live mode: an admin's API token on that server.
    #[arg(long, default_value = "")]
    admin_token: String,
    /// Live mode: the webchat channel the visitors write to.
    #[arg(long, default_value_t = 0)]
    channel: i64,
    /// Live mode: the server's process id, to read its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Live mode: concurrent widget WebSockets.
    #[arg(long, default_value_t = 1_000)]
    widgets: usize,
    /// Live mode: concurrent agent consoles.
    #[arg(long, default_value_t = 100)]
    agents: usize,
    /// Live mode: each visitor writes once per this many milliseconds.
    #[arg(long, default_value_t = 10_000)]
    interval_ms: u64,
    /// Live mode: how long visitors keep writing, in seconds.
    #[arg(long, default_value_t = 30)]
    live_secs: u64,
    /// Live mode: `--channel` is an `api` channel with this secret;
    /// customers write by signed webhook instead of the widget.
    #[arg(long)]
    api_secret: Option<String>,
    /// Outbox mode: replies to a slow receiver across `kill -9` (issue 22).
    #[arg(long)]
    outbox_crash: bool,
    /// Failover mode: routing hand-overs between three nodes on PostgreSQL (issue 18).
    #[arg(long)]
    failover: bool,
    /// Failover mode: the PostgreSQL server; the run makes its own database there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// Outbox and failover modes: the `frontdesk` binary to run; default: next to this one.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
    /// Outbox mode: how many times the server is killed; failover mode:
    /// how many hand-overs each phase times.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Outbox mode: milliseconds the server runs between kills.
    #[arg(long, default_value_t = 3_000)]
    cycle_ms: u64,
    /// Outbox mode: agent replies per second (one channel takes 16/s at
    /// 250 ms: 4 deliveries at a time).
    #[arg(long, default_value_t = 8.0)]
    reply_rate: f64,
    /// Outbox mode: the sessions replies go to.
    #[arg(long, default_value_t = 64)]
    outbox_chats: usize,
    /// Outbox mode: how long the receiver takes to answer.
    #[arg(long, default_value_t = 250)]
    callback_delay_ms: u64,
}

fn item(channel_id: i64, n: usize, chats: usize) -> IngestItem {
    let chat = n % chats;
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: format!("m{n}"),
            chat_id: format!("chat-{chat}"),
            sender: Sender {
                verified: true,
                id: format!("visitor-{chat}"),
                ..Sender::default()
            },
            text: format!("hello, this is message {n}"),
            ..Default::default()
        },
    }
}

async fn fresh_store(
    dir: &tempfile::TempDir,
    name: &str,
) -> anyhow::Result<(Arc<dyn Store>, i64, String)> {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = store::connect(&url).await?;
    let admin = store
        .create_user("load", store::Role::Admin, "load-token-hash", 0)
        .await?;
    let secret = frontdesk::auth::new_secret();
    let channel = NewChannel {
        name: "Load".into(),
        kind: "api".into(),
        secret: secret.clone(),
        config: "{}".into(),
    };
    let channel = store.create_channel(admin.id, &channel, 0).await?;
    Ok((store, channel.id, secret))
}

/// Messages per second straight into the store, `batch` messages per commit.
async fn raw_rate(
    dir: &tempfile::TempDir,
    name: &str,
    messages: usize,
    batch: usize,
    chats: usize,
) -> anyhow::Result<f64> {
    let (store, channel, _) = fresh_store(dir, name).await?;
    let items: Vec<IngestItem> = (0..messages).map(|n| item(channel, n, chats)).collect();
    let started = Instant::now();
    for chunk in items.chunks(batch) {
        store.ingest(chunk, SystemClock.now()).await?;
    }
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}

struct Run {
    rate: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        let i =
            ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i]
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn post(client: &HttpClient, url: &str, signature: &str, body: Bytes) -> anyhow::Result<()> {
    let req = hyper::Request::post(url)
        .header(SIGNATURE_HEADER, signature)
        .body(Full::new(body))?;
    let res = client.request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.is_success(),
        "server answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(())
}

/// Pre-signed request bodies, so the client spends no time hashing while measured.
fn signed_bodies(
    secret: &str,
    range: std::ops::Range<usize>,
    chats: usize,
) -> Vec<(String, Bytes)> {
    range
        .map(|n| {
            let chat = n % chats;
            let body = serde_json::json!({
                "message_id": format!("m{n}"), "chat_id": format!("chat-{chat}"), "text": format!("hello, this is message {n}"),
            })
            .to_string();
            (sign(secret, body.as_bytes()), Bytes::from(body))
        })
        .collect()
}

/// As fast as `connections` closed-loop clients can go.
async fn saturated(
    client: &HttpClient,
    url: &str,
    bodies: Vec<(String, Bytes)>,
    connections: usize,
) -> anyhow::Result<Run> {
    let total = bodies.len();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, queue) = (client.clone(), url.to_string(), queue.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let next = queue.lock().expect("queue lock").pop();
                    let Some((sig, body)) = next else {
                        return anyhow::Ok(latencies);
                    };
                    let sent = Instant::now();
                    post(&client, &url, &sig, body).await?;
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    Ok(Run {
        rate: total as f64 / started.elapsed().as_secs_f64(),
        latencies,
    })
}

/// A paced stream at `rate` per second over `connections` keep-alive
/// connections. Each request has a scheduled send time, and its latency is
/// counted from that time, not from when a free connection sent it, so a slow
/// server shows up as latency instead of quietly lowering the rate
/// (no coordinated omission).
async fn paced(
    client: &HttpClient,
    url: &str,
    bodies: Vec<(String, Bytes)>,
    rate: f64,
    connections: usize,
) -> anyhow::Result<Run> {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = bodies.len();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, bodies, next) = (
                client.clone(),
                url.to_string(),
                bodies.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((sig, body)) = bodies.get(i) else {
                        return anyhow::Ok(latencies);
                    };
                    let scheduled = started + interval.mul_f64(i as f64);
                    tokio::time::sleep_until(scheduled.into()).await;
                    post(&client, &url, sig, body.clone()).await?;
                    latencies.push(scheduled.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    Ok(Run {
        rate: total as f64 / started.elapsed().as_secs_f64(),
        latencies,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(url) = args.live_url {
        return live::run(live::LiveArgs {
            url: url.trim_end_matches('/').to_string(),
            admin_token: args.admin_token,
            channel: args.channel,
            server_pid: args.server_pid,
            widgets: args.widgets,
            agents: args.agents,
            interval_ms: args.interval_ms.max(1),
            secs: args.live_secs,
            api_secret: args.api_secret,
        })
        .await;
    }
    let server_bin = match args.server_bin {
        Some(bin) => bin,
        None => std::env::current_exe()?.with_file_name("frontdesk"),
    };
    if args.failover {
        return failover::run(failover::FailoverArgs {
            server_bin,
            postgres: args.postgres,
            kills: args.kills,
        })
        .await;
    }
    if args.outbox_crash {
        return outbox::run(outbox::OutboxArgs {
            server_bin,
            kills: args.kills,
            cycle_ms: args.cycle_ms,
            reply_rate: args.reply_rate,
            chats: args.outbox_chats.max(1),
            callback_delay_ms: args.callback_delay_ms,
        })
        .await;
    }
    let dir = tempfile::tempdir().context("temp dir")?;

    let raw = raw_rate(&dir, "raw.db", args.raw_messages, 1, args.chats).await?;
    let raw_batched = raw_rate(&dir, "batched.db", args.messages, 512, args.chats).await?;

    let (store, channel, secret) = fresh_store(&dir, "http.db").await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/{channel}", listener.local_addr()?);
    let state = AppState::new(App::new(store, Arc::new(SystemClock)).await?);
    let stop = state.workers.stop.clone();
    let server = tokio::spawn({
        let stop = stop.clone();
        async move {
            let limits = frontdesk::server::ServeLimits {
                max_connections: frontdesk::server::connection_cap_from_file_limit(),
                ..Default::default()
            };
            frontdesk::server::run(listener, state, stop, &limits).await
        }
    });
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections)
        .build_http();

    // Warm up connections and the page cache before measuring.
    saturated(
        &client,
        &url,
        signed_bodies(&secret, 0..2_000, args.chats),
        args.connections,
    )
    .await?;
    let bodies = signed_bodies(&secret, 2_000..2_000 + args.messages, args.chats);
    let mut full = saturated(&client, &url, bodies, args.connections).await?;
    let half_rate = full.rate / 2.0;
    let start = 2_000 + args.messages;
    let count = (half_rate * args.half_load_secs as f64) as usize;
    let bodies = signed_bodies(&secret, start..start + count, args.chats);
    let mut half = paced(&client, &url, bodies, half_rate, args.connections).await?;
    stop.cancel();
    server.await??;

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("| measurement | messages/s | ratio to raw | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    println!("| raw SQLite, one commit per message (baseline) | {raw:.0} | 1.0× | | |");
    println!(
        "| raw SQLite, 512 per commit | {raw_batched:.0} | {:.1}× | | |",
        raw_batched / raw
    );
    let (p50, p99) = (full.percentile(0.50), full.percentile(0.99));
    println!(
        "| HTTP webhooks, saturated ({} connections) | {:.0} | {:.1}× | {} | {} |",
        args.connections,
        full.rate,
        full.rate / raw,
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = (half.percentile(0.50), half.percentile(0.99));
    println!(
        "| HTTP webhooks, paced at half that rate | {:.0} | {:.1}× | {} | {} |",
        half.rate,
        half.rate / raw,
        ms(p50),
        ms(p99)
    );
    println!(
        "\n{cores} cores; every HTTP message acknowledged only after its commit (WAL, synchronous=FULL)."
    );
    Ok(())
}
