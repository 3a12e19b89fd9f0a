//! Issue 16, the admin's settings pages in a real browser
//! (`tests/browser/settings_admin.mjs`): Users (an agent with a password, a
//! supervisor with a one-time link opened in a second browser, disabling a
//! user), Plugins (uploading a `.tar.gz` package and reading its
//! permissions) and Operations (a failed outbound message sent again, the
//! audit log filtered by action).
//!
//! Set up through the API, as it is not what the scenario is about: the
//! admin with a password, an `api` channel without a `callback_url` whose
//! reply failed, and the package archive.

use std::time::{Duration, Instant};

use serde_json::json;

use super::support::{Http, Server, admin_token, callback, plugin_cli, plugin_package, sqlite_url};

const ADMIN_PASSWORD: &str = "ada keeps the keys safe";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u1_p4_s5_the_admin_manages_users_uploads_a_plugin_and_sends_a_failed_reply_again() {
    let _one_browser = super::support::BROWSER.lock().await;
    let root = super::root();
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let token = admin_token(&db);

    // The package the admin uploads: the echo connector, packed as a person
    // would with `frontdesk plugin pack`.
    let folder = plugin_package("echo", "echo", dir.path());
    let archive = dir.path().join("echo-0.1.0.tar.gz");
    plugin_cli(
        &dir.path().join("pack-data"),
        &["pack", folder.to_str().unwrap(), archive.to_str().unwrap()],
    );

    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
    let http = Http::default();
    let base = server.url("");
    let (status, body) = http
        .api(
            "POST",
            &server.url("/api/v1/users"),
            &token,
            Some(json!({"name": "ada", "role": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ada = body["user"]["id"].as_i64().unwrap();

    // An `api` channel without a callback_url: the reply to its customer fails.
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Partner API"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    // Ann serves its queue and Ada supervises it: the Users page says so.
    let (status, body) = http
        .api(
            "POST",
            &server.url("/api/v1/users"),
            &token,
            Some(json!({"name": "ann", "role": "agent", "password": "ann has a password too"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ann = body["user"]["id"].as_i64().unwrap();
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180,
        "unanswered_interval_secs": 600, "agents": [ann]});
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/queue")),
            &token,
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/supervisors")),
            &token,
            Some(json!({"users": [ada]})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let session = callback::customer_writes(&http, &base, channel, &secret, "c1", "m1").await;
    let outbox = callback::reply(&http, &base, &token, session, "We are on it").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let item = callback::outbox_item(&http, &base, &token, outbox).await;
        if item["state"] == "failed" {
            break;
        }
        assert!(Instant::now() < deadline, "the reply never failed: {item}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    super::node_script(
        "settings_admin.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("PACKAGE", archive.display().to_string()),
            ("OUTBOX", outbox.to_string()),
            (
                "SHOT_USERS",
                shots.join("settings-users.png").display().to_string(),
            ),
            (
                "SHOT_PLUGINS",
                shots.join("settings-plugins.png").display().to_string(),
            ),
            (
                "SHOT_OPERATIONS",
                shots.join("settings-operations.png").display().to_string(),
            ),
        ],
    );

    // What the pages did is what the server holds.
    let (_, users) = http
        .api("GET", &server.url("/api/v1/users"), &token, None)
        .await;
    let user = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not listed: {users}"))
    };
    assert_eq!(user("nora")["role"], "agent");
    assert_eq!(user("nora")["display_name"], "Nora K.");
    assert_eq!(user("nora")["disabled"], true);
    assert_eq!(user("sid")["role"], "supervisor");
    assert_eq!(user("sid")["disabled"], false);
    // The admin's clicks on nora's access are in the audit log (P4).
    let nora = user("nora")["id"].as_i64().unwrap();
    for action in ["api_token.revoke", "user.totp_off"] {
        let (status, entries) = http
            .api(
                "GET",
                &server.url(&format!("/api/v1/audit?action={action}")),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{entries}");
        assert!(
            entries.as_array().unwrap().iter().any(|e| e["target"]
                .as_str()
                .is_some_and(|t| t.contains(&nora.to_string()))),
            "{action} for nora: {entries}"
        );
    }
    let (_, plugins) = http
        .api("GET", &server.url("/api/v1/plugins"), &token, None)
        .await;
    assert_eq!(plugins[0]["name"], "echo", "{plugins}");
    assert_eq!(plugins[0]["active"], "0.1.0", "{plugins}");
    let (status, retried) = http
        .api(
            "GET",
            &server.url("/api/v1/audit?action=outbox.retry"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(
        retried[0]["target"],
        format!("outbox/{outbox}"),
        "{retried}"
    );
    let item = callback::outbox_item(&http, &base, &token, outbox).await;
    assert_eq!(item["state"], "failed", "{item}");
    assert!(
        item["last_error"]
            .as_str()
            .unwrap()
            .contains("no callback_url"),
        "{item}"
    );
}
