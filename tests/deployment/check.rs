//! `frontdesk check` on the real binary, against a real SMTP relay
//! (`aiosmtpd`) and a real server: a good deployment passes, and each
//! problem fails with its fix printed under it.

use sqlx::Connection;

use super::email_peers::{Relay, free_port};
use super::support::{Server, sqlite_url};
use super::{frontdesk, run};

/// The finding `LEVEL TOPIC` of a report: what it says and its fix, if any.
fn finding<'a>(report: &'a str, level: &str, topic: &str) -> (&'a str, Option<&'a str>) {
    let prefix = format!("{level:<5} {topic:<14} ");
    let mut lines = report.lines();
    while let Some(line) = lines.next() {
        if let Some(what) = line.strip_prefix(&prefix) {
            let fix = lines
                .next()
                .and_then(|l| l.trim_start().strip_prefix("fix: "));
            return (what, fix);
        }
    }
    panic!("no {level} {topic} line in:\n{report}");
}

/// A migrated SQLite database in `dir`.
fn migrated_db(dir: &std::path::Path) -> String {
    let db = sqlite_url(dir);
    let (code, _, err) = run(&mut frontdesk(&["migrate", "--database", &db]));
    assert_eq!(code, 0, "{err}");
    db
}

#[test]
fn a_good_deployment_passes_and_nothing_is_mailed() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_db(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let relay_port = free_port();
    let relay = Relay::start(relay_port, &dir.path().join("mail"));
    let relay_url = format!("smtp://127.0.0.1:{relay_port}");
    let (code, out, err) = run(frontdesk(&[
        "check",
        "--min-free-mib",
        "1",
        "--",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "https://support.example.com",
        "--smtp-relay",
        &relay_url,
        "--mail-from",
        "support@example.com",
    ])
    .env("FRONTDESK_DATABASE", &db)
    .env("FRONTDESK_DATA_DIR", &data)
    .env("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("FAIL") && !out.contains("WARN"), "{out}");
    assert!(out.ends_with("all checks passed\n"), "{out}");
    let (what, _) = finding(&out, "ok", "configuration");
    assert!(what.contains("3 FRONTDESK_* variable(s) set"), "{what}");
    assert!(
        finding(&out, "ok", "database").0.contains("writable"),
        "{out}"
    );
    let (what, _) = finding(&out, "ok", "data dir");
    assert!(
        what.starts_with(&format!("{}: writable", data.display())),
        "{what}"
    );
    assert!(out.contains("up to date with this binary"), "{out}");
    assert!(finding(&out, "ok", "listen").0.contains("free to bind"));
    assert!(finding(&out, "ok", "public url").0.contains("well-formed"));
    let (what, _) = finding(&out, "ok", "smtp relay");
    assert!(what.contains("answered EHLO and NOOP"), "{what}");
    // It talked to the relay, and sent it nothing.
    assert!(relay.received().is_empty());
}

#[test]
fn a_running_server_is_reached_at_its_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_db(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
    let public = format!("http://{}", server.addr);
    let listen = server.addr.to_string();
    let (code, out, err) = run(frontdesk(&[
        "check",
        "--min-free-mib",
        "1",
        "--reach-public-url",
        "--",
        "--listen",
        &listen,
        "--public-url",
        &public,
    ])
    .env("FRONTDESK_DATABASE", &db)
    .env("FRONTDESK_DATA_DIR", &data));
    assert_eq!(code, 0, "{out}{err}");
    let reached = format!("{public}/healthz answered 200 OK");
    assert!(
        out.contains(&format!("ok    public url     {reached}")),
        "{out}"
    );
    // The server holds its address: worth a look, not a failure.
    let (what, fix) = finding(&out, "WARN", "listen");
    assert_eq!(what, format!("{listen} is in use now"));
    assert!(
        fix.unwrap()
            .contains("nothing if frontdesk is running there")
    );
}

#[test]
fn a_bad_data_dir_and_an_unreachable_relay_print_their_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_db(dir.path());
    // A file where the data dir should be.
    let not_a_dir = dir.path().join("data");
    std::fs::write(&not_a_dir, "").unwrap();
    let closed = format!("smtp://127.0.0.1:{}", free_port());
    let (code, out, _) = run(frontdesk(&[
        "check",
        "--min-free-mib",
        "1",
        "--",
        "--data-dir",
        not_a_dir.to_str().unwrap(),
        "--smtp-relay",
        &closed,
    ])
    .env("FRONTDESK_DATABASE", &db));
    assert_eq!(code, 1, "{out}");
    let (what, fix) = finding(&out, "FAIL", "data dir");
    assert_eq!(what, format!("{} is not a directory", not_a_dir.display()));
    assert_eq!(
        fix,
        Some("create the directory, or point --data-dir (FRONTDESK_DATA_DIR) at one")
    );
    let (what, fix) = finding(&out, "FAIL", "smtp relay");
    assert!(
        what.starts_with(&closed) && what.contains("Connection refused"),
        "{what}"
    );
    assert!(fix.unwrap().starts_with("check the host and port"), "{out}");
    assert!(
        out.ends_with(
            "2 check(s) failed, 2 warning(s): fix the FAIL lines, then run frontdesk check again\n"
        ),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_database_fails_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_db(dir.path());
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    sqlx::query(super::upgrades::FUTURE_SQLITE)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (code, out, _) = run(&mut frontdesk(&["check", "--database", &db]));
    assert_eq!(code, 1, "{out}");
    let (what, fix) = finding(&out, "FAIL", "database");
    assert!(
        what.contains("migration 9001 retention, newer than this frontdesk"),
        "{what}"
    );
    assert!(
        fix.unwrap()
            .starts_with("install the frontdesk version that upgraded")
    );
}

#[test]
fn a_bad_variable_names_itself_and_a_misspelt_one_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_db(dir.path());
    let (code, out, _) = run(frontdesk(&["check"])
        .env("FRONTDESK_DATABASE", &db)
        .env("FRONTDESK_DRAIN_SECS", "soon")
        .env("FRONTDESK_PUBLICURL", "https://support.example.com"));
    assert_eq!(code, 1, "{out}");
    let (what, fix) = finding(&out, "FAIL", "configuration");
    assert!(
        what.contains("invalid value 'soon' for '--drain-secs"),
        "{what}"
    );
    assert_eq!(
        fix,
        Some(
            "correct FRONTDESK_DRAIN_SECS in the environment (it sets --drain-secs), or the flag after --"
        )
    );
    let (what, _) = finding(&out, "WARN", "configuration");
    assert_eq!(
        what,
        "FRONTDESK_PUBLICURL is set, but frontdesk reads no such variable"
    );
    // The database is still looked at; the parts that need serve's values are not.
    assert!(out.contains("up to date with this binary"), "{out}");
    let _ = finding(&out, "WARN", "the rest");
}
