//! A real nginx (Debian's; `scripts/test.sh` installs it) running the
//! shipped `deploy/nginx.conf` with only its ports, upstreams and
//! certificate paths changed, and a self-signed certificate made for it:
//! for `reverse_proxy.rs` (one node) and `cluster_proxy.rs` (three).

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long nginx may take to listen, and any one request.
pub const DEADLINE: Duration = Duration::from_secs(20);

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
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    pub https: SocketAddr,
}

impl Nginx {
    /// nginx in front of `upstreams` (one `server` line each, as
    /// deploy/nginx.conf says for several nodes).
    pub fn start(dir: &Path, upstreams: &[SocketAddr], cert: &Path, key: &Path) -> Nginx {
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf"),
        )
        .unwrap();
        let (http, https) = (free_port(), free_port());
        let site = swap(
            shipped,
            "server 127.0.0.1:8080;",
            &upstreams
                .iter()
                .map(|upstream| format!("server {upstream};"))
                .collect::<Vec<_>>()
                .join("\n    "),
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

    /// An agent console's live socket (`/api/v1/live`) with `token`,
    /// upgraded through nginx over TLS.
    pub async fn live_socket(
        &self,
        tls: &rustls::ClientConfig,
        token: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let tcp = tokio::net::TcpStream::connect(self.https).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = tokio_rustls::TlsConnector::from(Arc::new(tls.clone()))
            .connect(name, tcp)
            .await
            .unwrap();
        let mut request = self
            .url("/api/v1/live")
            .replace("https", "wss")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .unwrap();
        socket
    }

    pub fn url(&self, path: &str) -> String {
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
pub fn certificate(dir: &Path) -> (PathBuf, PathBuf, rustls::ClientConfig) {
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
pub fn client(tls: &rustls::ClientConfig, from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .local_address(IpAddr::from(from))
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .unwrap()
}
