//! P2, P5, issue 16's My account page in a real browser: an agent creates
//! and revokes an API token, turns on two-factor sign-in with a code from
//! the key the page shows, and signs in again with password and code
//! (`tests/browser/account.mjs`). Saves `docs/screenshots/settings-account.png`.

use serde_json::json;

use super::support::{Http, Server, admin_token, sqlite_url};

#[tokio::test]
async fn p2_p5_an_agent_manages_tokens_and_turns_on_two_factor_sign_in() {
    let _one_browser = super::support::BROWSER.lock().await;
    let root = super::root();
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    // A fixed test clock: the script computes codes for the server's time.
    let clock = "1700000000000";
    let server = Server::start(&db, &[("FRONTDESK_TEST_CLOCK", clock)]);
    let (status, body) = Http::default()
        .api(
            "POST",
            &server.url("/api/v1/users"),
            &admin,
            Some(json!({"name": "cai", "role": "agent", "password": "cai has a long passphrase"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    super::node_script(
        "account.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("CLOCK_MS", clock.to_string()),
            ("ADMIN_TOKEN", admin.clone()),
            (
                "SCREENSHOT",
                root.join("docs/screenshots/settings-account.png")
                    .display()
                    .to_string(),
            ),
        ],
    );
}
