//! Issue 7, the agent console in a real browser: `playwright-core` drives
//! Debian's Chromium (`tests/browser/console*.mjs`) against the real binary.
//! Customers write through the built-in `api` channel (X3).
//!
//! Needs `node`, `/usr/bin/chromium` and `npm install --prefix tests/peers`
//! (`.ci/run` does all three).

use crate::support;

/// P5, P6: the first admin's way in, from the setup link to Statistics.
#[path = "console_browser/sign_in.rs"]
mod sign_in;

/// Issue 16: the admin's Users, Plugins and Operations pages.
#[path = "console_browser/settings_admin.rs"]
mod settings_admin;

/// U1, U2: one channel's working hours, auto-actions, agreement, canned responses and ratings.
#[path = "console_browser/settings_channel_more.rs"]
mod settings_channel_more;

/// Issue 16 scenario 2 in one walk; U1: a channel's auto-action scripts are its own.
#[path = "console_browser/scenario2.rs"]
mod scenario2;

/// Issue 16: every settings page and channel tab from the keyboard only.
#[path = "console_browser/keyboard.rs"]
mod keyboard;

/// P2, P5: My account: API tokens and two-factor sign-in.
#[path = "console_browser/account.rs"]
mod account;

/// Issue 16: Settings · Channels and a channel's Queue, CRM, Agent
/// information and Other tabs; scenarios 3 and 4.
#[path = "console_browser/settings_channels.rs"]
mod settings_channels;

/// Issue 17: browsing a catalogue and installing a signed plugin.
#[path = "console_browser/marketplace.rs"]
mod marketplace;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, sqlite_url};

const CANNED_TEXT: &str = "Hello! Thanks for writing to us. Let me look into it right away.";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A server with one `api` channel whose queue is Ann and Ben, R7 on (so
/// sessions wait in the queue while nobody is clocked in), and a canned
/// response `/hello`.
struct Desk {
    server: Server,
    http: Http,
    admin: String,
    channel: i64,
    secret: String,
    users: Vec<(i64, String)>,
    _dir: tempfile::TempDir,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let server = Server::start(&db, &[]);
    let http = Http::default();
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &admin,
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let mut users = Vec::new();
    for name in ["ann", "ben"] {
        let (status, body) = http
            .api(
                "POST",
                &server.url("/api/v1/users"),
                &admin,
                Some(json!({"name": name, "role": "agent", "password": password(name)})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        users.push((body["user"]["id"].as_i64().unwrap(), password(name)));
    }
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180, "unanswered_interval_secs": 600,
        "agents": [users[0].0, users[1].0], "options": {"require_clocked_in": true}});
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/queue")),
            &admin,
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let canned = json!({"lists": [{"name": "Greetings", "responses": [
        {"name": "Hello", "shortcut": "/hello", "text": CANNED_TEXT},
        {"name": "Goodbye", "shortcut": "/bye", "text": "Thanks, have a good day!"}]}]});
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/canned")),
            &admin,
            Some(canned),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Desk {
        server,
        http,
        admin,
        channel,
        secret,
        users,
        _dir: dir,
    }
}

/// Runs one scenario script; returns the JSON it printed last.
fn run(desk: &Desk, script: &str, extra: &[(&str, String)]) -> Value {
    let mut env = vec![
        ("FRONTDESK_URL", desk.server.url("")),
        ("CHANNEL", desk.channel.to_string()),
        ("SECRET", desk.secret.clone()),
        ("ANN_PASSWORD", desk.users[0].1.clone()),
        ("BEN_PASSWORD", desk.users[1].1.clone()),
        ("BEN_ID", desk.users[1].0.to_string()),
        ("CANNED_TEXT", CANNED_TEXT.to_string()),
    ];
    env.extend(extra.iter().cloned());
    result_line(&node_script(script, &env))
}

/// Runs `tests/browser/{script}` with node and `env`; panics with its output
/// unless it passed; returns what it printed. The npm peers it needs come
/// from `tests/peers` (`scripts/test.sh` installs them).
fn node_script(script: &str, env: &[(&str, String)]) -> String {
    assert!(
        root()
            .join("tests/peers/node_modules/playwright-core")
            .exists(),
        "npm install --prefix tests/peers first (scripts/test.sh does)"
    );
    let out = Command::new("node")
        .arg(root().join("tests/browser").join(script))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run node (is it installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The JSON a scenario script printed as its last line.
fn result_line(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("the script's result line")
}

async fn session(desk: &Desk, id: i64) -> (Value, Vec<Value>) {
    let (status, detail) = desk
        .http
        .api(
            "GET",
            &desk.server.url(&format!("/api/v1/sessions/{id}")),
            &desk.admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    let (status, messages) = desk
        .http
        .api(
            "GET",
            &desk.server.url(&format!("/api/v1/sessions/{id}/messages")),
            &desk.admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{messages}");
    (
        detail["session"].clone(),
        messages.as_array().unwrap().clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r18_a6_q3_agent_takes_a_live_session_replies_by_shortcut_closes_and_a_supervisor_rates_it()
{
    let _one = support::BROWSER.lock().await;
    let desk = desk().await;
    let shot = root().join("docs/screenshots/console.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let result = run(
        &desk,
        "console_take_reply.mjs",
        &[("SCREENSHOT", shot.display().to_string())],
    );
    let (session, messages) = session(&desk, result["session"].as_i64().unwrap()).await;
    assert_eq!(session["state"], "closed");
    assert_eq!(session["agent_id"], desk.users[0].0);
    let reply = messages
        .iter()
        .find(|m| m["direction"] == "out" && m["author_id"] == desk.users[0].0)
        .expect("Ann's reply is stored");
    assert_eq!(reply["body"], CANNED_TEXT);

    // Q3: Sam supervises the channel; he finds the closed session and rates it.
    let (status, body) = desk
        .http
        .api(
            "POST",
            &desk.server.url("/api/v1/users"),
            &desk.admin,
            Some(json!({"name": "sam", "role": "supervisor", "password": password("sam")})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let sam = body["user"]["id"].as_i64().unwrap();
    let (status, body) = desk
        .http
        .api(
            "PUT",
            &desk
                .server
                .url(&format!("/api/v1/channels/{}/supervisors", desk.channel)),
            &desk.admin,
            Some(json!({"users": [sam]})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let id = session["id"].as_i64().unwrap();
    run(
        &desk,
        "console_supervisor.mjs",
        &[
            ("SAM_PASSWORD", password("sam")),
            ("SESSION", id.to_string()),
        ],
    );
    let (status, ratings) = desk
        .http
        .api(
            "GET",
            &desk.server.url(&format!("/api/v1/sessions/{id}/ratings")),
            &desk.admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{ratings}");
    let rating = &ratings[0];
    assert_eq!(rating["rater"], "supervisor");
    assert_eq!(rating["score"], 4);
    assert_eq!(rating["rated_by"], sam);
    assert_eq!(rating["comment"], "Friendly and quick. <b>Well done</b>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r18_transfer_between_two_agents_arrives_live() {
    let _one = support::BROWSER.lock().await;
    let desk = desk().await;
    let result = run(&desk, "console_transfer.mjs", &[]);
    let (session, _) = session(&desk, result["session"].as_i64().unwrap()).await;
    assert_eq!(session["agent_id"], desk.users[1].0, "Ben holds it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_html_and_script_show_as_text_and_never_run() {
    let _one = support::BROWSER.lock().await;
    let desk = desk().await;
    let result = run(&desk, "console_xss.mjs", &[]);
    let (_, messages) = session(&desk, result["session"].as_i64().unwrap()).await;
    assert!(
        messages[0]["body"]
            .as_str()
            .unwrap()
            .contains("<img src=x onerror="),
        "stored as sent: {messages:?}"
    );
}

/// Each test user's console password (P5): they sign in through the form.
fn password(name: &str) -> String {
    format!("{name} signs in with this")
}
