//! One connector call (fresh instance from the `InstancePre` + verify + parse
//! of a typical webhook) against the same parse done natively in this process.
//!
//! Run: `cargo bench -p frontdesk-plugin-host --bench connector_call`.
//! Builds `plugins/` for wasm32-wasip2 first, like the tests do.
//!
//! The `connector_call_steps` group times growing prefixes of the same call
//! ([`CallSteps`]), each dropping its store as a call does, so the
//! difference between neighbours is what one step costs; `docs/benchmarks.md`
//! has the table.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_plugin_host::types::{
    Attachment, AttachmentKind, Channel, InboundMessage, InboundRequest, Sender,
};
use frontdesk_plugin_host::{CallSteps, HostConfig, Package, PluginHost};
use serde_json::json;

/// The echo connector's own parser, compiled natively: the same source the
/// plugin runs.
#[path = "../../../plugins/echo/src/payload.rs"]
mod payload;

fn build_echo() -> Package {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wasm_dir =
        frontdesk_plugin_host::guest_build::build_guests(&workspace, Some("echo")).unwrap();
    let wasm = std::fs::read(wasm_dir.join("echo.wasm")).unwrap();
    let manifest = std::fs::read_to_string(workspace.join("plugins/echo/manifest.toml")).unwrap();
    Package::from_parts(&manifest, wasm).unwrap()
}

/// A typical inbound webhook: one message with a named sender and an image.
fn request() -> InboundRequest {
    let body = json!({"messages": [{
        "chat": "chat-8812", "id": "msg-1700000000-42",
        "from": {"id": "user-77", "name": "Ada Lovelace", "handle": "ada", "email": "ada@example.com"},
        "text": "Hello! My order #4411 hasn't arrived yet and the tracking page shows no update since Monday. Can you help?",
        "ts": 1_700_000_000_000u64,
        "attachments": [{"kind": "image", "url": "https://cdn.example.com/u/77/receipt.png", "mime": "image/png", "size": 48213}]
    }]});
    InboundRequest {
        method: "POST".into(),
        path: String::new(),
        query: String::new(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-echo-token".into(), "bench-token".into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// The native equivalent of the plugin's work: check the token, parse, and
/// build the same normalized messages.
fn native_parse(request: &InboundRequest) -> Vec<InboundMessage> {
    let token = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-echo-token"));
    assert_eq!(token.map(|(_, v)| v.as_str()), Some("bench-token"));
    let webhook = payload::parse(&request.body).unwrap();
    webhook
        .messages
        .into_iter()
        .map(|m| InboundMessage {
            external_chat_id: m.chat,
            external_message_id: m.id,
            sender: Sender {
                external_id: m.from.id,
                name: m.from.name,
                handle: m.from.handle,
                email: m.from.email,
                phone: m.from.phone,
            },
            text: m.text,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    kind: if a.kind == "image" {
                        AttachmentKind::Image
                    } else {
                        AttachmentKind::Other
                    },
                    url: a.url,
                    provider_file_id: None,
                    file_name: a.name,
                    mime_type: a.mime,
                    size_bytes: a.size,
                    data: None,
                })
                .collect(),
            sent_at_ms: m.ts,
            in_reply_to: m.reply_to,
            edit_of: None,
        })
        .collect()
}

struct Setup {
    _dir: tempfile::TempDir,
    host: PluginHost,
    channel: Channel,
    request: InboundRequest,
    runtime: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::open(HostConfig::new(dir.path())).unwrap();
    host.install(&build_echo()).unwrap();
    let channel = Channel {
        id: "bench".into(),
        plugin: "echo".into(),
        config: json!({"api_base_url": "http://127.0.0.1:9", "token": "bench-token"}),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Setup {
        _dir: dir,
        host,
        channel,
        request: request(),
        runtime,
    }
}

async fn call(setup: &Setup) -> usize {
    let served = setup
        .host
        .handle_inbound(&setup.channel, &setup.request)
        .await
        .unwrap();
    served.value.unwrap().messages.len()
}

fn connector_call(c: &mut Criterion) {
    let setup = setup();
    assert_eq!(setup.runtime.block_on(call(&setup)), 1);
    assert_eq!(native_parse(&setup.request).len(), 1);
    let mut group = c.benchmark_group("connector_call");
    group.bench_function("wasm: instantiate + verify + parse", |b| {
        b.to_async(&setup.runtime).iter(|| call(&setup))
    });
    group.bench_function("native: verify + parse", |b| {
        b.iter(|| native_parse(std::hint::black_box(&setup.request)))
    });
    group.finish();
    print_ratio(&setup);
}

/// The same call taken apart; see the module docs.
fn connector_call_steps(c: &mut Criterion) {
    let setup = setup();
    let steps = setup.host.call_steps(&setup.channel).unwrap();
    let refused = InboundRequest {
        headers: vec![("x-echo-token".into(), "wrong-token".into())],
        ..setup.request.clone()
    };
    let runtime = &setup.runtime;
    assert_eq!(runtime.block_on(through_call(&steps, &setup.request)), 1);
    assert_eq!(runtime.block_on(through_call(&steps, &refused)), 0);
    let mut group = c.benchmark_group("connector_call_steps");
    group.bench_function("a. find the plugin version", |b| {
        b.iter(|| steps.lookup().unwrap())
    });
    group.bench_function("b. WASI context (built only if the guest uses WASI)", |b| {
        b.iter(|| steps.wasi_context())
    });
    group.bench_function("c. store: config cache, limits, deadline", |b| {
        b.iter(|| steps.store().unwrap())
    });
    group.bench_function("d. store + instantiate", |b| {
        b.to_async(runtime).iter(|| async {
            let mut store = steps.store().unwrap();
            steps.instantiate(&mut store).await.unwrap();
        })
    });
    group.bench_function("e. store + instantiate + call refused by verify", |b| {
        b.to_async(runtime)
            .iter(|| through_call(&steps, std::hint::black_box(&refused)))
    });
    group.bench_function("f. store + instantiate + verify + parse", |b| {
        b.to_async(runtime)
            .iter(|| through_call(&steps, std::hint::black_box(&setup.request)))
    });
    group.finish();
}

/// Steps c to f of one call: how many messages it parsed, 0 if refused.
async fn through_call(steps: &CallSteps, request: &InboundRequest) -> usize {
    let mut store = steps.store().unwrap();
    let instance = steps.instantiate(&mut store).await.unwrap();
    match steps.handle_inbound(&mut store, &instance, request).await {
        Ok(Ok(outcome)) => outcome.messages.len(),
        Ok(Err(_refused)) => 0,
        Err(error) => panic!("the call failed: {error}"),
    }
}

/// Criterion reports each side alone; this prints their ratio from one
/// interleaved run so both see the same machine load.
fn print_ratio(setup: &Setup) {
    let rounds = 20;
    let per_round = 500;
    let (mut wasm, mut native) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        setup.runtime.block_on(async {
            for _ in 0..per_round {
                std::hint::black_box(call(setup).await);
            }
        });
        wasm += start.elapsed();
        let start = Instant::now();
        for _ in 0..per_round {
            std::hint::black_box(native_parse(&setup.request));
        }
        native += start.elapsed();
    }
    let calls = (rounds * per_round) as u32;
    let (wasm, native) = (wasm / calls, native / calls);
    println!(
        "connector_call: wasm {:.1} µs, native {:.2} µs, ratio {:.0}x",
        wasm.as_secs_f64() * 1e6,
        native.as_secs_f64() * 1e6,
        wasm.as_secs_f64() / native.as_secs_f64()
    );
}

criterion_group!(benches, connector_call, connector_call_steps);
criterion_main!(benches);
