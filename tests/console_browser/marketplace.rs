//! Issue 17, the console's Plugins page as a marketplace
//! (`tests/browser/marketplace.mjs`): sign in through the form, browse the
//! configured catalogue, read the permissions, install, see it listed.
//!
//! Set up with the CLI and the API, as it is not what the scenario is
//! about: a publisher key, the echo connector signed and published into a
//! catalogue directory, the key trusted, and the admin with a password.

use serde_json::json;

use super::support::{Http, Server, admin_token, plugin_cli, plugin_package, sqlite_url};

const ADMIN_PASSWORD: &str = "ada reads before she installs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_the_admin_browses_a_catalogue_and_installs_a_signed_plugin() {
    let _one_browser = super::support::BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (db, data) = (sqlite_url(root), root.join("data"));
    let keys = root.join("keys");
    let catalogue = root.join("catalogue");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let scratch = root.join("scratch");
    plugin_cli(
        &scratch,
        &["keygen", "--out", &path(&keys), "--publisher", "acme"],
    );
    let package = plugin_package("echo", "echo", root);
    let key = path(&keys.join("acme.key"));
    plugin_cli(&scratch, &["sign", &path(&package), "--key", &key]);
    plugin_cli(
        &scratch,
        &["publish", &path(&package), "--catalogue", &path(&catalogue)],
    );
    plugin_cli(&data, &["trust", &path(&keys.join("acme.pub"))]);

    let token = admin_token(&db);
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_CATALOGUES", catalogue.to_str().unwrap()),
        ],
    );
    let http = Http::default();
    let (status, body) = http
        .api(
            "POST",
            &server.url("/api/v1/users"),
            &token,
            Some(json!({"name": "ada", "role": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let shots = super::root().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = super::node_script(
        "marketplace.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            (
                "SHOT",
                shots
                    .join("settings-plugins-catalogue.png")
                    .display()
                    .to_string(),
            ),
        ],
    );
    assert_eq!(super::result_line(&out)["installed"], "echo");

    // What the page did is what the server holds: signed, approved by Ada.
    let (_, plugins) = http
        .api("GET", &server.url("/api/v1/plugins"), &token, None)
        .await;
    let echo = &plugins[0];
    assert_eq!(echo["name"], "echo", "{plugins}");
    assert_eq!(echo["signed_by"], "acme");
    let approved = echo["versions"][0]["approved_by"].as_str().unwrap();
    assert!(approved.ends_with("(ada)"), "{approved}");
}
