//! One bot call (fresh instance from the `InstancePre` + one event) for the
//! JavaScript example bot (`plugins/examples/order-status-js`, a StarlingMonkey
//! engine inside the component) against a Rust bot (`fixtures/greeter-bot`)
//! in the same run, and both components' sizes, as `.wasm` and as the
//! precompiled artifact the host keeps.
//!
//! Run: `cargo bench -p frontdesk-plugin-host --bench bot_call`.
//! Needs the npm test peers (`npm install --prefix tests/peers`, which
//! `scripts/test.sh` runs): the JS bot is built with their componentize-js,
//! with the same arguments `frontdesk plugin build` passes.
//!
//! The event is the one both bots answer the same way without any host call:
//! a customer asking for a person, answered with one hand-over.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_plugin_host::types::{BotAction, BotEvent, Channel, InboundMessage, Sender, Session};
use frontdesk_plugin_host::{HostConfig, Package, PluginHost};
use serde_json::json;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_bot() -> Package {
    let root = workspace();
    let wasm_dir =
        frontdesk_plugin_host::guest_build::build_guests(&root, Some("greeter-bot")).unwrap();
    let wasm = std::fs::read(wasm_dir.join("greeter_bot.wasm")).unwrap();
    let manifest =
        std::fs::read_to_string(root.join("plugins/fixtures/greeter-bot/manifest.toml")).unwrap();
    Package::from_parts(&manifest, wasm).unwrap()
}

/// Builds the JS example with the test peers' componentize-js, as
/// `frontdesk plugin build` does (`plugin_author/js.rs`).
fn js_bot() -> Package {
    let root = workspace();
    let project = root.join("plugins/examples/order-status-js");
    let tool = root.join("tests/peers/node_modules/.bin/componentize-js");
    assert!(
        tool.is_file(),
        "{} is missing: run `npm install --prefix tests/peers` (scripts/test.sh does)",
        tool.display()
    );
    let out = root.join("target/js-plugins/bench-order-status-js.wasm");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let status = Command::new(&tool)
        .current_dir(&project)
        .args(["src/bot.js", "--wit", "wit", "--world-name", "bot"])
        .args(["--disable", "http", "fetch-event", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "componentize-js failed: {status}");
    let manifest = std::fs::read_to_string(project.join("manifest.toml")).unwrap();
    Package::from_parts(&manifest, std::fs::read(out).unwrap()).unwrap()
}

fn session() -> Session {
    Session {
        session_id: "s-1".into(),
        channel_id: "bench".into(),
        customer: customer(),
        data: Vec::new(),
    }
}

fn customer() -> Sender {
    Sender {
        external_id: "u-1".into(),
        name: Some("Ada".into()),
        handle: None,
        email: None,
        phone: None,
    }
}

fn event() -> BotEvent {
    BotEvent::CustomerMessage(InboundMessage {
        external_chat_id: "c-1".into(),
        external_message_id: "m-1".into(),
        sender: customer(),
        text: Some("Can I talk to an agent, please?".into()),
        attachments: Vec::new(),
        sent_at_ms: None,
        in_reply_to: None,
        edit_of: None,
    })
}

/// One bot installed on a host of its own, with the default limits.
struct Bot {
    _dir: tempfile::TempDir,
    host: PluginHost,
    channel: Channel,
    wasm_bytes: usize,
    artifact_bytes: u64,
}

impl Bot {
    fn new(package: Package, config: serde_json::Value) -> Bot {
        let dir = tempfile::tempdir().unwrap();
        let host = PluginHost::open(HostConfig::new(dir.path())).unwrap();
        let wasm_bytes = package.wasm.len();
        let name = package.manifest.name.clone();
        host.install(&package).unwrap();
        let artifact_bytes = artifact_size(dir.path());
        Bot {
            _dir: dir,
            host,
            channel: Channel {
                id: "bench".into(),
                plugin: name,
                config,
            },
            wasm_bytes,
            artifact_bytes,
        }
    }

    async fn call(&self, session: &Session, event: &BotEvent) -> usize {
        let served = self
            .host
            .bot_event(&self.channel, session, event)
            .await
            .unwrap();
        let actions = served.value.unwrap();
        assert!(matches!(actions.as_slice(), [BotAction::HandOver(_)]));
        actions.len()
    }
}

/// The size of the one precompiled artifact (`*.cwasm`) under `dir`.
fn artifact_size(dir: &Path) -> u64 {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "cwasm") {
                found.push(path.metadata().unwrap().len());
            }
        }
    }
    assert_eq!(found.len(), 1, "one artifact per host: {found:?}");
    found[0]
}

fn bot_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let js = Bot::new(js_bot(), json!({"orders_api": "http://127.0.0.1:9"}));
    let rust = Bot::new(rust_bot(), json!({"greeting": "Hello"}));
    let (session, event) = (session(), event());
    runtime.block_on(js.call(&session, &event));
    runtime.block_on(rust.call(&session, &event));
    let mut group = c.benchmark_group("bot_call");
    group.bench_function("js: instantiate + one event", |b| {
        b.to_async(&runtime).iter(|| js.call(&session, &event))
    });
    group.bench_function("rust: instantiate + one event", |b| {
        b.to_async(&runtime).iter(|| rust.call(&session, &event))
    });
    group.finish();
    print_ratio(&runtime, &js, &rust, &session, &event);
}

/// Both sides interleaved in one loop, so they see the same machine load.
fn print_ratio(
    runtime: &tokio::runtime::Runtime,
    js: &Bot,
    rust: &Bot,
    session: &Session,
    event: &BotEvent,
) {
    let (rounds, per_round) = (10, 50);
    let (mut js_time, mut rust_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        runtime.block_on(async {
            for _ in 0..per_round {
                std::hint::black_box(js.call(session, event).await);
            }
        });
        js_time += start.elapsed();
        let start = Instant::now();
        runtime.block_on(async {
            for _ in 0..per_round {
                std::hint::black_box(rust.call(session, event).await);
            }
        });
        rust_time += start.elapsed();
    }
    let calls = (rounds * per_round) as u32;
    let (js_call, rust_call) = (js_time / calls, rust_time / calls);
    let mib = |bytes: f64| bytes / f64::from(1u32 << 20);
    println!(
        "bot_call: js {:.1} µs, rust {:.1} µs, ratio {:.1}x; \
         .wasm js {:.2} MiB, rust {:.2} MiB; .cwasm js {:.2} MiB, rust {:.2} MiB",
        js_call.as_secs_f64() * 1e6,
        rust_call.as_secs_f64() * 1e6,
        js_call.as_secs_f64() / rust_call.as_secs_f64(),
        mib(js.wasm_bytes as f64),
        mib(rust.wasm_bytes as f64),
        mib(js.artifact_bytes as f64),
        mib(rust.artifact_bytes as f64),
    );
}

criterion_group!(benches, bot_call);
criterion_main!(benches);
