//! Issue 19: `deploy/nginx.conf` in front of the real server. A real nginx
//! (Debian's; `scripts/test.sh` installs it) runs the file with only its
//! ports, upstream address and certificate paths changed, with a
//! self-signed certificate made here. Over HTTPS through it: the console
//! page loads, a webhook over the size limit gets nginx's 413 (frontdesk
//! never sees it), a normal webhook is acknowledged, the agents' live
//! WebSocket connects and receives the message as an event, and
//! `X-Forwarded-For` counts only when the trusted proxy sends it.

use crate::support;

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Server, admin_token, sqlite_url};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// How long nginx may take to listen, and any one expected frame to come.
const DEADLINE: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Replaces `from` in `text`, which must contain it: the test runs the
/// shipped file, so a changed line has to change here too.
fn swap(text: String, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "deploy/nginx.conf no longer has {from:?}"
    );
    text.replace(from, to)
}

/// A real nginx running `deploy/nginx.conf`, stopped when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
    https: SocketAddr,
}

impl Nginx {
    fn start(dir: &Path, upstream: SocketAddr, cert: &Path, key: &Path) -> Nginx {
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf"),
        )
        .unwrap();
        let (http, https) = (free_port(), free_port());
        let site = swap(
            shipped,
            "server 127.0.0.1:8080;",
            &format!("server {upstream};"),
        );
        let site = swap(
            site,
            "listen 80;\n    listen [::]:80;",
            &format!("listen 127.0.0.1:{http};"),
        );
        let site = swap(
            site,
            "listen 443 ssl http2;\n    listen [::]:443 ssl http2;",
            &format!("listen 127.0.0.1:{https} ssl http2;"),
        );
        let site = swap(
            site,
            "/etc/letsencrypt/live/support.example.com/fullchain.pem",
            cert.to_str().unwrap(),
        );
        let site = swap(
            site,
            "/etc/letsencrypt/live/support.example.com/privkey.pem",
            key.to_str().unwrap(),
        );
        std::fs::write(dir.join("frontdesk.conf"), site).unwrap();
        // What Debian's /etc/nginx/nginx.conf gives the site, in a private
        // directory, as one foreground process (nothing left behind).
        let d = dir.display();
        let main = format!(
            "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log notice;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/frontdesk.conf;\n}}\n"
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, main).unwrap();
        let nginx = |extra: &[&str]| {
            let mut command = Command::new("nginx");
            command
                .arg("-c")
                .arg(&conf)
                .arg("-p")
                .arg(dir)
                .arg("-e")
                .arg(dir.join("error.log"));
            command.args(extra);
            command
        };
        let tested = nginx(&["-t"]).output().expect(
            "nginx is needed for this test: scripts/test.sh installs it (apt-get install nginx)",
        );
        assert!(
            tested.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&tested.stderr)
        );
        let child = nginx(&[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut proxy = Nginx {
            child,
            dir: dir.to_path_buf(),
            https: SocketAddr::from(([127, 0, 0, 1], https)),
        };
        let deadline = Instant::now() + DEADLINE;
        while TcpStream::connect(proxy.https).is_err() {
            if let Some(status) = proxy.child.try_wait().unwrap() {
                panic!("nginx exited with {status}: {}", proxy.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                proxy.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        proxy
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https.port())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for `localhost`, written as PEM files.
fn certificate(dir: &Path) -> (PathBuf, PathBuf, rustls::ClientConfig) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (cert, key, tls)
}

/// An HTTPS client that trusts the test's certificate and connects from `from`.
fn client(tls: &rustls::ClientConfig, from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .local_address(IpAddr::from(from))
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .unwrap()
}

/// A webhook on the built-in `api` channel, signed with its secret.
fn signed(secret: &str, id: &str, text: &str) -> (String, Vec<u8>) {
    let body = json!({"message_id": id, "chat_id": "customer-1", "text": text}).to_string();
    (
        frontdesk::ingest::sign(secret, body.as_bytes()),
        body.into_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_through_nginx_serves_the_console_hooks_and_live_socket() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let (cert, key, tls) = certificate(dir.path());
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1"),
            ("FRONTDESK_RATE_LIMITS", "auth-failures-per-ip=3/min"),
        ],
    );
    let nginx = Nginx::start(dir.path(), server.addr, &cert, &key);
    let web = client(&tls, [127, 0, 0, 1]);

    // The console's page, over TLS.
    let page = web.get(nginx.url("/console/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().starts_with("<!doctype html>"));

    let created = web
        .post(nginx.url("/api/v1/channels"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(json!({"name": "Site"}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let created: Value = serde_json::from_str(&created).unwrap();
    let channel = created["channel"]["id"].as_i64().expect("channel created");
    let secret = created["secret"].as_str().unwrap().to_string();

    // The agents' live socket, upgraded through the proxy.
    let tcp = tokio::net::TcpStream::connect(nginx.https).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls.clone()))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut request = nginx
        .url("/api/v1/live")
        .replace("https", "wss")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {admin}").parse().unwrap());
    let (mut live, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let mut next = async || loop {
        let frame = tokio::time::timeout(DEADLINE, live.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .unwrap();
        match frame {
            Message::Text(text) => return serde_json::from_str::<Value>(&text).unwrap(),
            Message::Ping(data) => live.send(Message::Pong(data)).await.unwrap(),
            _ => {}
        }
    };
    assert_eq!(next().await["type"], "hello");

    // A webhook over the limit: nginx answers, frontdesk never sees it.
    let hook = nginx.url(&format!("/hooks/{channel}"));
    let (sig, _) = signed(&secret, "big", "x");
    let big = web
        .post(&hook)
        .header(frontdesk::ingest::SIGNATURE_HEADER, &sig)
        .body(vec![b'x'; 2 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let text = big.text().await.unwrap();
    assert!(
        text.contains("413 Request Entity Too Large") && text.contains("<center>nginx</center>"),
        "not nginx's answer: {text}"
    );

    // A normal one: acknowledged, and on the live socket as it happens.
    let (sig, body) = signed(&secret, "m1", "my order is late");
    let answer = web
        .post(&hook)
        .header(frontdesk::ingest::SIGNATURE_HEADER, &sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let acked: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let session = acked["messages"][0]["session_id"].as_i64().unwrap();
    loop {
        let frame = next().await;
        if frame["type"] == "message" && frame["session_id"] == session {
            assert_eq!(frame["message"]["body"], "my order is late", "{frame}");
            break;
        }
    }

    // X-Forwarded-For from the trusted proxy names the client: wrong tokens
    // from 127.0.0.3 count against 127.0.0.3, whatever the client writes in
    // its own X-Forwarded-For.
    let wrong = |client: &reqwest::Client, url: String, forged: &str| {
        client
            .get(url)
            .bearer_auth("fd_wrong")
            .header("x-forwarded-for", forged.to_string())
            .send()
    };
    let from_3 = client(&tls, [127, 0, 0, 3]);
    for n in 1..=3 {
        let forged = format!("203.0.113.{n}");
        let status = wrong(&from_3, nginx.url("/api/v1/channels"), &forged)
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {n}");
    }
    let status = wrong(&from_3, nginx.url("/api/v1/channels"), "203.0.113.9")
        .await
        .unwrap()
        .status();
    assert_eq!(status, 429, "the fourth wrong token from 127.0.0.3");
    // Straight to frontdesk from 127.0.0.3 (not a trusted proxy): its
    // X-Forwarded-For is ignored, so this is 127.0.0.3 again, over its limit;
    // which also shows the requests above counted as 127.0.0.3, not as the
    // proxy's own address.
    // reqwest builds without a TLS provider of its own; ring is the project's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let direct = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 3]))
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("http://{}/api/v1/channels", server.addr);
    assert_eq!(
        wrong(&direct, url, "198.51.100.7").await.unwrap().status(),
        429
    );
    // Another client behind the same proxy has its own count.
    let from_4 = client(&tls, [127, 0, 0, 4]);
    let status = wrong(&from_4, nginx.url("/api/v1/channels"), "127.0.0.3")
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // /metrics stays off the public side.
    let metrics = web.get(nginx.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 404);
    drop(nginx);
}
