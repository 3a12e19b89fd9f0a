//! Issue 17, the author's path, on the real binary: `plugin new bot greeter`
//! writes a project whose unit test passes; the author changes its reply
//! line, runs `plugin build`, `keygen`, `sign` and `publish` into a catalogue
//! directory that a second `frontdesk serve --serve-catalogue` serves over
//! HTTP; the running server, trusting that publisher, installs the bot by
//! name, a channel uses it and a customer's message gets the changed reply.
//! An upgrade that asks to reach a new host waits for an admin's approval
//! while the installed version keeps answering. And `plugin build` says
//! what to do when the folder is no project, or cargo, or the wasm32-wasip2
//! target, is missing. (Tampered packages, unknown publishers and wrong
//! sha256s are refused in `tests/marketplace.rs`.)

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, binary, plugin_cli, sqlite_url};

const PATIENCE: Duration = Duration::from_secs(60);

/// A target dir kept between runs, so only the project itself recompiles.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugin-author")
}

/// `frontdesk plugin ARGS` in `dir` as an author runs it, with `env` added.
fn author(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary())
        .arg("plugin")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .envs(env.iter().copied())
        .output()
        .expect("run frontdesk plugin")
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_bot_changed_built_and_installed_answers_with_the_changed_reply() {
    let dir = tempfile::tempdir().unwrap();
    let made = succeeded(&author(dir.path(), &["new", "bot", "greeter"], &[]));
    assert!(made.contains("created the bot greeter"), "{made}");
    let project = dir.path().join("greeter");

    // Its unit test passes as written.
    let tested = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--offline", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", shared_target())
        .output()
        .unwrap();
    assert!(
        tested.status.success(),
        "the template's test failed: {}",
        String::from_utf8_lossy(&tested.stderr)
    );

    // The author changes one line: the bot's reply.
    let lib = project.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let reply_line =
        r#"format!("Thanks for writing \"{text}\". Write \"agent\" to talk to a person.")"#;
    assert!(
        source.contains(reply_line),
        "the template's reply line moved"
    );
    std::fs::write(
        &lib,
        source.replace(reply_line, r#"format!("Greeter heard: {text}")"#),
    )
    .unwrap();

    let built = succeeded(&author(dir.path(), &["build", "greeter", "--offline"], &[]));
    assert!(built.contains("greeter 0.1.0 (bot)"), "{built}");
    let archive = project.join("greeter-0.1.0.tar.gz");
    assert!(
        built.contains(&format!(
            "packed into {}",
            Path::new("greeter").join("greeter-0.1.0.tar.gz").display()
        )),
        "{built}"
    );
    assert!(archive.is_file());

    // Signed and published into a catalogue that a second frontdesk serves.
    let keys = dir.path().join("keys");
    let catalogue = dir.path().join("catalogue");
    let scratch = dir.path().join("scratch");
    let key = keys.join("ada.key");
    plugin_cli(
        &scratch,
        &["keygen", "--out", path(&keys), "--publisher", "ada"],
    );
    let signed = plugin_cli(&scratch, &["sign", path(&archive), "--key", path(&key)]);
    assert!(signed.contains("as publisher ada"), "{signed}");
    plugin_cli(
        &scratch,
        &["publish", path(&archive), "--catalogue", path(&catalogue)],
    );
    let market = Server::serving_catalogue(dir.path(), &catalogue);

    // The running server trusts ada and installs the bot by name.
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    plugin_cli(&data, &["trust", path(&keys.join("ada.pub"))]);
    let token = admin_token(&db);
    let catalogue_url = market.url("/catalogue");
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_CATALOGUES", &catalogue_url),
            ("FRONTDESK_ALLOW_UNSIGNED", "false"),
        ],
    );
    let http = Http::default();
    let api = async |method: &str, path: &str, body: Option<Value>| {
        http.api(method, &server.url(path), &token, body).await
    };
    let (status, list) = api(
        "POST",
        "/api/v1/plugins/install",
        Some(json!({"name": "greeter"})),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let greeter = listed(&list, "greeter");
    assert_eq!(
        greeter["active"], "0.1.0",
        "the newest this host runs without asking: {greeter}"
    );
    assert_eq!(greeter["signed_by"], "ada", "{greeter}");
    assert_eq!(greeter["unsigned"], false, "{greeter}");
    let (status, created) = api("POST", "/api/v1/channels", Some(json!({"name": "Site"}))).await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let (status, body) = api(
        "PUT",
        &format!("/api/v1/channels/{channel}/bot"),
        Some(json!({"plugin": "greeter", "config": {"greeting": "Welcome!"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let say = async |id: &str, text: &str| {
        let body = json!({"message_id": id, "chat_id": "c1", "text": text,
                          "sender": {"id": "c1", "name": "Ada"}})
        .to_string()
        .into_bytes();
        let headers = [(SIGNATURE_HEADER, sign(&secret, &body))];
        let (status, answer) = http
            .send(
                "POST",
                &server.url(&format!("/hooks/{channel}")),
                &headers,
                body,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["messages"][0]["session_id"].as_i64().unwrap()
    };
    let session = say("m1", "Hi").await;
    say("m2", "When are you open?").await;
    let deadline = Instant::now() + PATIENCE;
    let outbound = loop {
        let (status, messages) =
            api("GET", &format!("/api/v1/sessions/{session}/messages"), None).await;
        assert_eq!(status, 200, "{messages}");
        let out: Vec<String> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "out")
            .map(|m| m["body"].as_str().unwrap_or_default().to_string())
            .collect();
        if out.iter().any(|t| t.contains("When are you open?")) {
            break out;
        }
        assert!(Instant::now() < deadline, "the bot never answered: {out:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(outbound.first().map(String::as_str), Some("Welcome!"));
    assert!(
        outbound.contains(&"Greeter heard: When are you open?".to_string()),
        "{outbound:?}"
    );

    // The author publishes 0.2.0, which asks to reach a host 0.1.0 did not.
    let v2 = unpacked_with(&archive, &dir.path().join("greeter-0.2.0"), |manifest| {
        manifest
            .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
            .replace(
                "[capabilities]",
                "[capabilities]\nallowed_hosts = [\"orders.example.com\"]",
            )
    });
    plugin_cli(&scratch, &["sign", path(&v2), "--key", path(&key)]);
    plugin_cli(
        &scratch,
        &["publish", path(&v2), "--catalogue", path(&catalogue)],
    );
    // The upgrade asking for a new host waits for approval; 0.1.0 serves on.
    let (status, list) = api(
        "POST",
        "/api/v1/plugins/upgrade",
        Some(json!({"name": "greeter", "version": "0.2.0"})),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let greeter = listed(&list, "greeter");
    assert_eq!(greeter["active"], "0.1.0", "{greeter}");
    assert_eq!(greeter["awaiting_approval"], "0.2.0", "{greeter}");
    say("m3", "Still there?").await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, messages) = api("GET", &format!("/api/v1/sessions/{session}/messages"), None).await;
        if messages
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "Greeter heard: Still there?")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bot stopped answering while 0.2.0 waited: {messages}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, list) = api(
        "POST",
        "/api/v1/plugins/greeter/approve",
        Some(json!({"version": "0.2.0"})),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(listed(&list, "greeter")["active"], "0.2.0");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn listed(list: &Value, name: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not listed: {list}"))
}

/// The package `archive` unpacked (with the system tar) into `to`, its
/// manifest edited by `edit`, without the old signature.
fn unpacked_with(archive: &Path, to: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(to)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(to.join("signature.json"));
    let manifest = std::fs::read_to_string(to.join("manifest.toml")).unwrap();
    std::fs::write(to.join("manifest.toml"), edit(manifest)).unwrap();
    to.to_path_buf()
}

#[test]
fn plugin_build_says_what_to_do_when_something_is_missing() {
    let dir = tempfile::tempdir().unwrap();

    // Not a project.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let error = failed(&author(dir.path(), &["build", "empty"], &[]));
    assert!(error.contains("empty has no Cargo.toml"), "{error}");
    assert!(error.contains("frontdesk plugin new bot NAME"), "{error}");

    succeeded(&author(dir.path(), &["new", "connector", "relay"], &[]));

    // No cargo on PATH at all.
    let nothing = dir.path().join("no-tools");
    std::fs::create_dir(&nothing).unwrap();
    let out = without_rust_env(author_command(dir.path(), &["build", "relay"]))
        .env("PATH", &nothing)
        .output()
        .unwrap();
    let error = failed(&out);
    assert!(error.contains("cargo was not found on PATH"), "{error}");
    assert!(error.contains("https://rustup.rs"), "{error}");

    // A toolchain without the wasm32-wasip2 standard library, and no rustup:
    // the real rustc and cargo, in a copy of the toolchain that leaves it out.
    let toolchain = toolchain_without_wasm(dir.path());
    let out = without_rust_env(author_command(dir.path(), &["build", "relay"]))
        .env("PATH", toolchain.join("bin"))
        .output()
        .unwrap();
    let error = failed(&out);
    assert!(
        error.contains("the Rust target wasm32-wasip2 is not installed"),
        "{error}"
    );
    assert!(error.contains("not managed by rustup"), "{error}");
    assert!(error.contains("rustup target add wasm32-wasip2"), "{error}");

    // The same toolchain with rustup on PATH: the one command to run.
    let rustup_only = dir.path().join("rustup-only");
    std::fs::create_dir(&rustup_only).unwrap();
    let rustup = which("rustup");
    std::os::unix::fs::symlink(&rustup, rustup_only.join("rustup")).unwrap();
    let path = std::env::join_paths([toolchain.join("bin"), rustup_only]).unwrap();
    let out = without_rust_env(author_command(dir.path(), &["build", "relay"]))
        .env("PATH", path)
        .output()
        .unwrap();
    let error = failed(&out);
    assert!(
        error.contains("is not installed")
            && error.contains("run `rustup target add wasm32-wasip2`"),
        "{error}"
    );
    assert!(!error.contains("not managed by rustup"), "{error}");
}

fn author_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.arg("plugin").args(args).current_dir(dir);
    command
}

/// Drops what `cargo test` and rustup put in the environment, so the
/// command finds its tools on PATH only (`cargo test` also points
/// LD_LIBRARY_PATH at the real toolchain, where rustc would load its driver).
fn without_rust_env(mut command: Command) -> Command {
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTUP_TOOLCHAIN",
        "RUSTUP_HOME",
        "CARGO_HOME",
        "LD_LIBRARY_PATH",
    ] {
        command.env_remove(var);
    }
    command
}

fn which(tool: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{tool} is not on PATH");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// `<dir>/toolchain`: this test's Rust toolchain without `wasm32-wasip2`.
/// rustc finds its sysroot from where its driver library is (symlinks
/// resolved), so the binary and the driver are hard links (copies across
/// file systems); everything else is a symlink to the real toolchain.
fn toolchain_without_wasm(dir: &Path) -> PathBuf {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let real = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let fake = dir.join("toolchain");
    std::fs::create_dir_all(fake.join("bin")).unwrap();
    std::fs::create_dir_all(fake.join("lib/rustlib")).unwrap();
    let own_copy = |from: &Path, to: &Path| {
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to).unwrap();
        }
    };
    own_copy(&real.join("bin/rustc"), &fake.join("bin/rustc"));
    std::os::unix::fs::symlink(real.join("bin/cargo"), fake.join("bin/cargo")).unwrap();
    let link_all_but = |from: &Path, to: &Path, skip: &str| {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == skip {
                continue;
            }
            if name.to_string_lossy().starts_with("librustc_driver") {
                own_copy(&entry.path(), &to.join(&name));
            } else {
                std::os::unix::fs::symlink(entry.path(), to.join(&name)).unwrap();
            }
        }
    };
    link_all_but(&real.join("lib"), &fake.join("lib"), "rustlib");
    link_all_but(
        &real.join("lib/rustlib"),
        &fake.join("lib/rustlib"),
        "wasm32-wasip2",
    );
    fake
}
