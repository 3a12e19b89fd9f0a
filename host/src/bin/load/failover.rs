//! `frontdesk-load --failover`: how long routing is leaderless when the
//! leader of three nodes on one PostgreSQL dies (issue 18).
//!
//! Three real `frontdesk serve` processes share a fresh database. Each round
//! finds the leader by `/healthz` (`routing.role`), stops it, and times until
//! another node's `/healthz` says it leads; the stopped node is then started
//! again and must come back as a follower before the next round. The same
//! run measures a clean hand-over (SIGTERM: the leader hands the lease back
//! on its way out) as the baseline against `kill -9` (the lease has to run
//! out first). Each phase runs `--kills` rounds.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use sqlx::Connection;

/// What `--failover` measures with.
pub struct FailoverArgs {
    /// The `frontdesk` binary to run.
    pub server_bin: PathBuf,
    /// A PostgreSQL server URL; the run creates its own database there.
    pub postgres: String,
    /// Rounds per phase.
    pub kills: usize,
}

/// How long a take-over or a restart may take before the run gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// How often `/healthz` is asked during a take-over.
const POLL: Duration = Duration::from_millis(10);

struct Node {
    bin: PathBuf,
    db: String,
    data: PathBuf,
    addr: SocketAddr,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) -> anyhow::Result<()> {
        let child = Command::new(&self.bin)
            .args(["serve", "--listen", &self.addr.to_string()])
            .env("FRONTDESK_DATABASE", &self.db)
            .env("FRONTDESK_DATA_DIR", &self.data)
            .env("FRONTDESK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Sends `signal` and reaps the process.
    fn stop(&mut self, signal: &str) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .context("run kill")?;
        if !sent.success() {
            bail!("kill {signal} {} failed", child.id());
        }
        child.wait().context("reap the stopped node")?;
        Ok(())
    }

    fn url(&self) -> String {
        format!("http://{}/healthz", self.addr)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The node's routing role by `/healthz`, or `None` while it does not answer.
async fn role(http: &reqwest::Client, node: &Node) -> Option<String> {
    let answer = http.get(node.url()).send().await.ok()?;
    let body: Value = serde_json::from_slice(&answer.bytes().await.ok()?).ok()?;
    body["routing"]["role"].as_str().map(str::to_string)
}

/// Polls until `pick` finds a node in the wanted state; its index.
async fn until(
    http: &reqwest::Client,
    nodes: &[Node],
    what: &str,
    pick: impl Fn(usize, Option<&str>) -> bool,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        for (i, node) in nodes.iter().enumerate() {
            if node.child.is_some() && pick(i, role(http, node).await.as_deref()) {
                return Ok(i);
            }
        }
        if Instant::now() > deadline {
            bail!("{what}: nothing after {PATIENCE:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One phase: `kills` rounds of stopping the leader with `signal`; the
/// time from the signal to another node leading, sorted.
async fn phase(
    http: &reqwest::Client,
    nodes: &mut [Node],
    signal: &str,
    kills: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut takeovers = Vec::with_capacity(kills);
    for round in 0..kills {
        let leader = until(http, nodes, "a leader", |_, r| r == Some("leader")).await?;
        let stopped = Instant::now();
        nodes[leader].stop(signal)?;
        let next = until(http, nodes, "a new leader", |i, r| {
            i != leader && r == Some("leader")
        })
        .await?;
        let took = stopped.elapsed();
        takeovers.push(took);
        eprintln!(
            "{signal} round {}: node {leader} stopped, node {next} led after {}",
            round + 1,
            ms(took)
        );
        nodes[leader].start()?;
        until(http, nodes, "the restarted node", |i, r| {
            i == leader && r == Some("follower")
        })
        .await?;
    }
    takeovers.sort();
    Ok(takeovers)
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The database URL for `name` on the server `postgres` points at.
fn database_url(postgres: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(postgres).context("--postgres is not a URL")?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

pub async fn run(args: FailoverArgs) -> anyhow::Result<()> {
    let name = format!("frontdesk_failover_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&args.postgres)
        .await
        .with_context(|| format!("cannot connect to {}", args.postgres))?;
    // `name` is made above from the process id, nothing from outside.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let outcome = measure(&args, &database_url(&args.postgres, &name)?).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    outcome
}

async fn measure(args: &FailoverArgs, db: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut nodes = Vec::new();
    for i in 0..3 {
        let mut node = Node {
            bin: args.server_bin.clone(),
            db: db.to_string(),
            data: data_dir(dir.path(), i)?,
            addr: free_addr()?,
            child: None,
        };
        node.start()?;
        nodes.push(node);
    }
    // reqwest is built without a TLS provider of its own; plain HTTP here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()?;
    let clean = phase(&http, &mut nodes, "-TERM", args.kills).await?;
    let killed = phase(&http, &mut nodes, "-KILL", args.kills).await?;
    println!("| hand-over, 3 nodes on one PostgreSQL | rounds | median | max |");
    println!("|---|---:|---:|---:|");
    for (name, times) in [
        ("SIGTERM (lease handed back, baseline)", &clean),
        ("kill -9 (lease runs out)", &killed),
    ] {
        println!(
            "| {name} | {} | {} | {} |",
            times.len(),
            ms(median(times)),
            ms(times.last().copied().unwrap_or_default())
        );
    }
    println!(
        "kill -9 median / SIGTERM median: {:.1}",
        median(&killed).as_secs_f64() / median(&clean).as_secs_f64().max(1e-9)
    );
    Ok(())
}

fn data_dir(root: &Path, i: usize) -> anyhow::Result<PathBuf> {
    let data = root.join(format!("node-{i}"));
    std::fs::create_dir_all(&data)?;
    Ok(data)
}

fn median(sorted: &[Duration]) -> Duration {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
