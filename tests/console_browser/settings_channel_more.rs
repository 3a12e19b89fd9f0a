//! Issue 16, one channel's settings beyond the queue (U1, U2, W1, G1, A6,
//! Q1): an admin signs in, opens Settings and a channel, sets working hours
//! with a holiday and reads the server's "open now?" preview, saves two
//! versions of the channel's no_answer auto-action and restores the first
//! (the syntax error, Check and Test are in `scenario2.rs`), sets the
//! agreement, adds a canned response and turns the rating request on
//! (`tests/browser/settings_channel_more.mjs`).
//! A supervisor then sees the same tabs read-only.

use serde_json::json;

use super::support::{Http, Server, admin_token, sqlite_url};

/// Monday 5 January 2026, 11:30 UTC: 12:30 in Berlin, in the lunch gap
/// between the two Monday ranges the admin sets.
const MONDAY_LUNCH_MS: &str = "1767612600000";

#[tokio::test]
async fn u1_u2_w1_an_admin_sets_hours_scripts_agreement_canned_and_ratings() {
    let _one_browser = super::support::BROWSER.lock().await;
    let root = super::root();
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let server = Server::start(&db, &[("FRONTDESK_TEST_CLOCK", MONDAY_LUNCH_MS)]);
    let http = Http::default();
    let admin_password = "ada signs in with this";
    let supervisor_password = "sam signs in with this";
    let mut ids = Vec::new();
    for (name, role, password) in [
        ("ada", "admin", admin_password),
        ("sam", "supervisor", supervisor_password),
    ] {
        let (status, body) = http
            .api(
                "POST",
                &server.url("/api/v1/users"),
                &token,
                Some(json!({"name": name, "role": role, "password": password})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["user"]["id"].as_i64().unwrap());
    }
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let sam = ids[1];
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/supervisors")),
            &token,
            Some(json!({"users": [sam]})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    super::node_script(
        "settings_channel_more.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("CHANNEL_NAME", "Support".to_string()),
            ("ADMIN_PASSWORD", admin_password.to_string()),
            ("SUPERVISOR_PASSWORD", supervisor_password.to_string()),
            (
                "SHOT_HOURS",
                shots
                    .join("settings-channel-hours.png")
                    .display()
                    .to_string(),
            ),
        ],
    );

    // What the person did is what the server keeps. A new client: the
    // server has closed the first one's idle connection meanwhile.
    let http = Http::default();
    let (_, ch) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/channels/{channel}")),
            &token,
            None,
        )
        .await;
    assert_eq!(
        ch["config"]["working_hours"],
        json!({"time_zone": "Europe/Berlin", "days": {"mon": ["09:00-12:00", "13:00-17:00"]},
            "holidays": ["2026-12-25"]}),
        "{ch}"
    );
    assert_eq!(
        ch["config"]["off_hours_text"], "We are closed; back {opens}.",
        "{ch}"
    );
    assert_eq!(ch["config"]["consent"]["version"], 1, "{ch}");
    let (_, canned) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/channels/{channel}/canned")),
            &token,
            None,
        )
        .await;
    assert_eq!(
        canned["lists"][0]["responses"][0]["shortcut"], "/refund",
        "{canned}"
    );
    let (_, queue) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/channels/{channel}/queue")),
            &token,
            None,
        )
        .await;
    assert_eq!(queue["options"]["ask_rating"], true, "{queue}");
    let (_, scripts) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/channels/{channel}/scripts")),
            &token,
            None,
        )
        .await;
    let no_answer = scripts
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hook"] == "no_answer")
        .unwrap();
    // The restore brought back the first saved version.
    assert_eq!(
        no_answer["source"], "reply(\"We are on it.\")",
        "{no_answer}"
    );
}
