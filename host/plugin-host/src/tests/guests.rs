//! Builds the guest plugins once per test run and hands out their packages,
//! plus the small loopback HTTP provider the capability tests talk to.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::types::{Channel, InboundRequest};
use crate::{HostConfig, HostLimits, Package, PluginHost};

/// Builds `plugins/` for wasm32-wasip2 and returns the directory of `.wasm`s.
///
/// Uses its own target dir: the outer `cargo test` holds the lock on the
/// workspace's, and waiting for it would deadlock.
pub fn wasm_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        crate::guest_build::build_guests(&root, None).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The package of a guest crate: `dir` under `plugins/`, `wasm` its file stem.
pub fn package(dir: &str, wasm: &str) -> Package {
    let wasm_bytes =
        std::fs::read(wasm_dir().join(format!("{wasm}.wasm"))).expect("guest was built");
    let manifest_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(dir)
        .join("manifest.toml");
    let manifest = std::fs::read_to_string(&manifest_path).expect("guest has a manifest");
    Package::from_parts(&manifest, wasm_bytes).expect("fixture manifest is valid")
}

pub fn echo() -> Package {
    package("echo", "echo")
}

/// Limits small enough that the hostile fixtures fail fast.
pub fn test_limits() -> HostLimits {
    HostLimits {
        // Long enough that a slow, shared CI machine finishes the healthy calls.
        timeout: Duration::from_secs(1),
        memory_bytes: 32 << 20,
        max_concurrent_instances: 32,
        ..HostLimits::default()
    }
}

/// A host on a fresh data dir; keep the `TempDir` alive for the test.
pub fn host() -> (tempfile::TempDir, PluginHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = open(dir.path(), 5);
    (dir, host)
}

pub fn open(dir: &Path, quarantine_after: u32) -> PluginHost {
    let mut config = HostConfig::new(dir);
    config.limits = test_limits();
    config.quarantine_after = quarantine_after;
    PluginHost::open(config).expect("open the plugin host")
}

/// An echo channel posting replies to `base_url`.
pub fn echo_channel(id: &str, token: &str, base_url: &str) -> Channel {
    Channel {
        id: id.to_string(),
        plugin: "echo".to_string(),
        config: json!({"api_base_url": base_url, "token": token}),
    }
}

/// A webhook request as the echo provider sends it.
pub fn echo_request(token: &str, body: &serde_json::Value) -> InboundRequest {
    InboundRequest {
        method: "POST".to_string(),
        path: String::new(),
        query: String::new(),
        headers: vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("x-echo-token".to_string(), token.to_string()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// A typical one-message webhook body.
pub fn one_message(id: &str, text: &str) -> serde_json::Value {
    json!({"messages": [{
        "chat": "chat-1", "id": id,
        "from": {"id": "u-7", "name": "Ada Lovelace", "handle": "ada", "email": "ada@example.com"},
        "text": text, "ts": 1_700_000_000_000u64,
        "attachments": [{"kind": "image", "url": "https://cdn.example.com/a.png", "mime": "image/png", "size": 2048}]
    }]})
}

/// A loopback HTTP provider answering every request with `{"id":"p-N"}` and
/// recording the bodies it got.
pub struct Provider {
    pub base_url: String,
    pub bodies: Arc<Mutex<Vec<String>>>,
}

pub async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then exactly content-length bytes of body.
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (pos + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
                let id = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(body);
                    seen.len()
                };
                let reply = format!("{{\"id\":\"p-{id}\"}}");
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Provider { base_url, bodies }
}
