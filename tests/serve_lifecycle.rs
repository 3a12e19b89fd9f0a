//! The command line and the server's life: `--help`, port 0, SIGTERM.

use crate::support;

use std::process::Command;

use serde_json::json;
use support::{Http, Server, admin_token, binary, cli, sqlite_url};

#[test]
fn help_explains_every_command() {
    let out = Command::new(binary()).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for command in ["serve", "migrate", "user"] {
        assert!(
            help.contains(command),
            "--help does not mention {command}:\n{help}"
        );
    }
    let out = Command::new(binary())
        .args(["user", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for command in ["add", "list", "disable"] {
        assert!(
            help.contains(command),
            "user --help does not mention {command}:\n{help}"
        );
    }
}

#[test]
fn user_commands_print_the_token_last_and_disable_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    assert!(token.starts_with("fd_"), "{token}");
    cli(&db, &["user", "disable", "admin"]);
    assert!(cli(&db, &["user", "list"]).contains("disabled"));
    let out = Command::new(binary())
        .args(["user", "disable", "nobody"])
        .env("FRONTDESK_DATABASE", &db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no user named"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let http = Http::default();
    let mut server = Server::start(&db, &[]);
    let (status, _) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "S"})),
        )
        .await;
    assert_eq!(status, 201);

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "frontdesk exited with {exit} on SIGTERM");

    // What was acknowledged before the shutdown is there after it.
    let server = Server::start(&db, &[]);
    let (_, channels) = http
        .api("GET", &server.url("/api/v1/channels"), &token, None)
        .await;
    assert_eq!(channels.as_array().unwrap().len(), 1);
}

/// X1: an admin tries a script against an example event before saving it.
#[test]
fn x1_rules_check_and_test_report_errors_with_line_and_column_and_print_actions() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("greet.rhai");
    let broken = dir.path().join("broken.rhai");
    let event = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/examples/first_message.json"
    );
    std::fs::write(
        &script,
        Command::new(binary())
            .args(["rules", "default", "first_message"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(&broken, "let greeting = ;\n").unwrap();

    let ok = Command::new(binary())
        .args(["rules", "check"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = Command::new(binary())
        .args(["rules", "check"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("line 1, column 16"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");

    let out = Command::new(binary())
        .args(["rules", "test"])
        .arg(&script)
        .args(["--event", event])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(actions[0]["action"], "reply", "{actions}");
}
