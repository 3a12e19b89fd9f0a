//! Real mail peers for `tests/email.rs`: Python's `smtplib` as the customer's
//! mail server, `aiosmtpd` as the relay that receives replies, `dovecot` as
//! the IMAP server, and `imaplib` to append mail to it. Waits are polled
//! conditions with a deadline, never sleeps.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any peer may take to come up or go down.
const DEADLINE: Duration = Duration::from_secs(90);

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it holds; panics with `what` after the deadline.
pub fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// Whether something accepts connections on `port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

const SMTP_CLIENT: &str = r#"
import json, smtplib, sys
host, port, mail_from = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rcpts = sys.argv[4].split(",")
raw = sys.stdin.buffer.read()
s = smtplib.SMTP(host, port, timeout=60)
s.ehlo("client.test")
out = {"mail": s.mail(mail_from)[0], "rcpt": [], "data": None}
for r in rcpts:
    code, msg = s.rcpt(r)
    out["rcpt"].append([code, msg.decode()])
if any(code == 250 for code, _ in out["rcpt"]):
    code, msg = s.data(raw)
    out["data"] = [code, msg.decode()]
else:
    s.rset()
s.quit()
print(json.dumps(out))
"#;

/// Delivers `raw` with Python's smtplib; returns the codes it got:
/// `{"mail": 250, "rcpt": [[250, "..."]], "data": [250, "..."]}`.
pub fn smtp_send(addr: SocketAddr, mail_from: &str, rcpts: &[&str], raw: &str) -> Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args([
            "-c",
            SMTP_CLIENT,
            &addr.ip().to_string(),
            &addr.port().to_string(),
        ])
        .arg(mail_from)
        .arg(rcpts.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.replace('\n', "\r\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "smtplib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("smtplib client prints JSON")
}

/// `aiosmtpd` storing every mail it receives in a maildir.
pub struct Relay {
    child: Child,
    pub dir: PathBuf,
}

impl Relay {
    /// Starts the relay on `port` and waits until it accepts connections.
    pub fn start(port: u16, dir: &Path) -> Relay {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        wait_for("aiosmtpd to listen", || listening(port));
        Relay {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// Every mail received so far, raw.
    pub fn received(&self) -> Vec<String> {
        received_in(&self.dir)
    }
}

/// The mails in a maildir's `new/`, in no particular order.
pub fn received_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect()
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private dovecot: its own config, passwd file and maildir in a temp dir.
pub struct Dovecot {
    conf: PathBuf,
    pub port: u16,
    pub maildir: PathBuf,
    running: bool,
}

pub const IMAP_USER: &str = "ada";
pub const IMAP_PASSWORD: &str = "s3cret";

impl Dovecot {
    /// Writes the config (see STACK.md) and starts the server.
    pub fn start(dir: &Path) -> Dovecot {
        let port = free_port();
        let home = dir.join("home");
        std::fs::create_dir_all(dir.join("run")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        // Mail processes run as nobody; dovecot refuses root for them.
        let chown = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&home)
            .status()
            .unwrap();
        assert!(chown.success());
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/run\ninstance_name = frontdesk-test-{port}\n\
log_path = {d}/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\nssl = no\n\
disable_plaintext_auth = no\nauth_mechanisms = plain login\nfirst_valid_uid = 100\n\
mail_location = maildir:~/Maildir\ndefault_internal_user = nobody\ndefault_login_user = nobody\n\
service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
passdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n"
        );
        let conf_path = dir.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        std::fs::write(
            dir.join("passwd"),
            format!(
                "{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}:65534:65534::{}\n",
                home.display()
            ),
        )
        .unwrap();
        let mut dovecot = Dovecot {
            conf: conf_path,
            port,
            maildir: home.join("Maildir"),
            running: false,
        };
        dovecot.resume();
        dovecot
    }

    /// Starts the server again and waits until it accepts connections.
    pub fn resume(&mut self) {
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .status()
            .expect("dovecot (apt-get install dovecot-imapd)");
        assert!(status.success(), "dovecot did not start");
        self.running = true;
        wait_for("dovecot to listen", || listening(self.port));
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&mut self) {
        let status = Command::new("doveadm")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .status()
            .unwrap();
        assert!(status.success(), "doveadm stop failed");
        self.running = false;
        wait_for("dovecot to stop", || !listening(self.port));
    }

    /// Appends mails with imaplib's APPEND, in order.
    pub fn append(&self, mails: &[String]) {
        let script = r#"
import imaplib, json, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
for raw in json.load(sys.stdin):
    typ, data = m.append("INBOX", None, None, raw.replace("\n", "\r\n").encode())
    assert typ == "OK", data
m.logout()
"#;
        run_python(
            script,
            &[&self.port.to_string(), IMAP_USER, IMAP_PASSWORD],
            &serde_json::to_string(mails).unwrap(),
        );
    }

    /// Delivers mails straight into the maildir, as a local delivery agent
    /// does while the IMAP server is down; dovecot numbers them when it next
    /// looks, in the order of their file names.
    pub fn deliver_to_maildir(&self, mails: &[String], stamp: u64) {
        for (i, raw) in mails.iter().enumerate() {
            let name = format!("{}.M{i}P1.frontdesk-test", stamp + i as u64);
            let tmp = self.maildir.join("tmp").join(&name);
            std::fs::write(&tmp, raw.replace('\n', "\r\n")).unwrap();
            std::fs::rename(&tmp, self.maildir.join("new").join(&name)).unwrap();
        }
        let chown = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&self.maildir)
            .status()
            .unwrap();
        assert!(chown.success());
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if self.running {
            let _ = Command::new("doveadm")
                .arg("-c")
                .arg(&self.conf)
                .arg("stop")
                .status();
        }
    }
}

fn run_python(script: &str, args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
