//! Issue 14 item 17: `/api/v1/openapi.json` is true to the server. PyPI
//! `schemathesis` (`st`, installed by `scripts/test.sh`) reads the document
//! from the real binary and sends a bounded number of generated requests to
//! every operation, valid and invalid, as an agent and as an admin: no answer
//! may be a 5xx, and every documented answer must match its schema.

use crate::support;

use std::time::Instant;

use serde_json::json;
use support::{Http, Server, admin_token, sqlite_url};

/// Generated requests per operation and phase: enough to send each
/// parameter's edge values and some malformed bodies, small enough that
/// both runs take well under two minutes on two cores.
const MAX_EXAMPLES: &str = "8";

/// Operations left out: the test clock only exists on test servers and
/// moves every timer at once.
const EXCLUDED_PATHS: &[&str] = &["/api/v1/test/clock"];

/// A server with something in it to read: an `api` channel with an agent in
/// its queue, a customer's session with a reply, and a contact.
struct Seeded {
    server: Server,
    admin: String,
    agent: String,
    /// The database, and schemathesis's working directory (its cache).
    dir: tempfile::TempDir,
}

async fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let data = dir.path().join("data");
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
    let http = Http::default();
    let call = |method: &'static str, path: &str, token: &str, body| {
        let (http, url, token) = (&http, server.url(path), token.to_string());
        async move {
            let (status, answer) = http.api(method, &url, &token, body).await;
            assert!(
                (200..300).contains(&status),
                "{method} {url}: {status} {answer}"
            );
            answer
        }
    };
    let agent = call(
        "POST",
        "/api/v1/users",
        &admin,
        Some(json!({"name": "ann", "role": "agent"})),
    )
    .await;
    let agent_id = agent["user"]["id"].as_i64().unwrap();
    let agent = agent["token"].as_str().unwrap().to_string();
    let channel = call(
        "POST",
        "/api/v1/channels",
        &admin,
        Some(json!({"name": "Site"})),
    )
    .await;
    let (channel, secret) = (
        channel["channel"]["id"].as_i64().unwrap(),
        channel["secret"].as_str().unwrap().to_string(),
    );
    call(
        "PUT",
        &format!("/api/v1/channels/{channel}/queue"),
        &admin,
        Some(json!({"mode": "evenly", "forward_interval_secs": 600,
            "unanswered_interval_secs": 3600, "agents": [agent_id], "options": {}})),
    )
    .await;
    let payload = json!({"message_id": "m1", "chat_id": "c1", "text": "Hello",
        "sender": {"name": "Bob", "email": "bob@example.org"}})
    .to_string();
    let signature = frontdesk::ingest::sign(&secret, payload.as_bytes());
    let (status, answer) = http
        .send(
            "POST",
            &server.url(&format!("/hooks/{channel}")),
            &[(frontdesk::ingest::SIGNATURE_HEADER, signature)],
            payload.into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    call(
        "POST",
        &format!("/api/v1/sessions/{session}/messages"),
        &admin,
        Some(json!({"text": "Hi Bob"})),
    )
    .await;
    call(
        "POST",
        "/api/v1/contacts",
        &admin,
        Some(json!({"name": "Carol", "email": "carol@example.org"})),
    )
    .await;
    Seeded {
        server,
        admin,
        agent,
        dir,
    }
}

/// What every answer is checked for: never a 5xx, a status the operation
/// documents, and the documented content type, headers and body schema.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// Runs schemathesis against `server` with `token` (and `extra` flags);
/// panics with its report when a check fails.
async fn schemathesis(world: &Seeded, who: &str, token: &str, extra: &[&str]) {
    let server = &world.server;
    let mut command = tokio::process::Command::new("st");
    command
        .current_dir(world.dir.path())
        .arg("run")
        .arg(server.url("/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--seed", "14017"])
        // One worker: with two, hypothesis's lambda descriptions parse
        // source with `ast` from both threads at once and now and then stop
        // with its own "AST constructor recursion depth mismatch" runtime
        // error (seen on POST /channels once the upload operation was added);
        // one worker takes about as long here.
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .arg("--no-shrink")
        .args(extra)
        .env("NO_COLOR", "1");
    for path in EXCLUDED_PATHS {
        command.args(["--exclude-path", path]);
    }
    let out = command
        .output()
        .await
        .expect("schemathesis's `st` (pip install schemathesis, or run scripts/test.sh)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis as {who} found problems ({}):\n{report}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_without_5xx_and_as_documented_for_agents_and_admins() {
    let started = Instant::now();
    let world = seeded().await;
    // Another admin for the last run, since the first may be disabled by then.
    let (status, created) = Http::default()
        .api(
            "POST",
            &world.server.url("/api/v1/users"),
            &world.admin,
            Some(json!({"name": "rev", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let revoker = created["token"].as_str().unwrap();
    // The agent first: the admin's runs may disable users and delete things.
    // Revoking tokens runs apart, last: a run may revoke its own token.
    let revoking = [
        "--exclude-path",
        "/api/v1/me/tokens/{id}",
        "--exclude-path",
        "/api/v1/users/{id}/tokens/{token}",
    ];
    schemathesis(&world, "agent", &world.agent, &revoking).await;
    // `PATCH /users/{id}` alone: it may disable the admin's own user, after
    // which every other operation would only answer 401.
    let users = ["/api/v1/users/{id}"];
    let mut not_users = revoking.to_vec();
    not_users.extend(["--exclude-path", users[0]]);
    schemathesis(&world, "admin", &world.admin, &not_users).await;
    schemathesis(&world, "admin", &world.admin, &["--include-path", users[0]]).await;
    let only_revoking: Vec<&str> = revoking
        .iter()
        .map(|a| {
            if *a == "--exclude-path" {
                "--include-path"
            } else {
                a
            }
        })
        .collect();
    schemathesis(&world, "admin revoking tokens", revoker, &only_revoking).await;
    // Reported, not asserted: a wall-clock limit failed this test on a loaded
    // machine although every check passed. CI's own time shows the cost;
    // MAX_EXAMPLES is the knob.
    eprintln!("the schemathesis runs took {:?}", started.elapsed());
}
