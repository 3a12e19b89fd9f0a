//! P5, P6 and issue 16's first scenario in a real browser: a fresh server
//! logs its setup link; the first admin comes in through it, signs out and
//! in, is locked out after five wrong passwords, and opens Statistics from
//! the console's header signed in (`tests/browser/sign_in.mjs`).
//!

use super::support::{Log, Server, sqlite_url};

#[tokio::test]
async fn p5_p6_the_first_admin_signs_in_through_the_logged_link_and_reaches_statistics() {
    let _one_browser = super::support::BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    // The test clock starts at the real time: the statistics page asks for
    // the last seven days by the browser's calendar.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let server = Server::start_logged(
        &sqlite_url(dir.path()),
        &[("FRONTDESK_TEST_CLOCK", now.as_str())],
        log.clone(),
    );
    // The link is logged before the address line that `start_logged` waits for.
    let setup_url = log
        .lock()
        .unwrap()
        .iter()
        .find_map(|line| line["fields"]["setup_url"].as_str().map(str::to_string))
        .expect("the server logged a setup_url");
    super::node_script(
        "sign_in.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("SETUP_URL", setup_url.clone()),
        ],
    );
}
