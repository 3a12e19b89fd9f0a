//! The signed marketplace (issue 17) on the real binary: a publisher makes a
//! key, signs and publishes packages into a catalogue that a second
//! `frontdesk serve --serve-catalogue` process serves over HTTP; the server
//! that trusts the publisher installs by name; a tampered package, an
//! unknown publisher, a wrong sha256 and an unsigned path are each refused
//! with their own message; an upgrade asking for more permissions waits
//! for an admin's approval, and one needing a newer host says which.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, binary, plugin_package, sqlite_url};

/// `frontdesk plugin ARGS` with nothing allowed by the environment.
fn plugin(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .env_remove("FRONTDESK_ALLOW_UNSIGNED")
        .env_remove("FRONTDESK_CATALOGUES")
        .args(["plugin", "--data-dir"])
        .arg(data)
        .args(args)
        .output()
        .expect("run frontdesk plugin")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = plugin(data, args);
    assert!(
        out.status.success(),
        "frontdesk plugin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(data: &Path, args: &[&str]) -> String {
    let out = plugin(data, args);
    assert!(
        !out.status.success(),
        "frontdesk plugin {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A copy of the package folder `from` with its manifest edited by `edit`.
fn variant(from: &Path, to: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for file in ["manifest.toml", "plugin.wasm"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(to.join("manifest.toml")).unwrap();
    std::fs::write(to.join("manifest.toml"), edit(manifest)).unwrap();
    to.to_path_buf()
}

fn version_of(list: &Value, name: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not listed: {list}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_catalogue_install_refusals_and_consent() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let keys = root.join("keys");
    let scratch = root.join("scratch");
    ok(
        &scratch,
        &["keygen", "--out", s(&keys), "--publisher", "acme"],
    );
    ok(
        &scratch,
        &["keygen", "--out", s(&keys), "--publisher", "mallory"],
    );
    let secret = std::fs::metadata(keys.join("acme.key")).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(secret.permissions().mode() & 0o777, 0o600);

    // The publisher: v1, v2 asking for mail as well, v3 for a newer plugin API.
    let v1 = plugin_package("echo", "echo", root);
    let v2 = variant(&v1, &root.join("echo-v2"), |m| {
        m.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
            .replace("kv = true", "kv = true\nsmtp = true")
    });
    let v3 = variant(&v1, &root.join("echo-v3"), |m| {
        m.replace("version = \"0.1.0\"", "version = \"0.3.0\"")
            .replace("api = \"0.1.0\"", "api = \">=0.2, <0.3\"")
    });
    let catalogue = root.join("catalogue");
    for package in [&v1, &v2, &v3] {
        let signed = ok(
            &scratch,
            &["sign", s(package), "--key", s(&keys.join("acme.key"))],
        );
        assert!(signed.contains("as publisher acme"), "{signed}");
        ok(
            &scratch,
            &["publish", s(package), "--catalogue", s(&catalogue)],
        );
    }
    let index: Value =
        serde_json::from_slice(&std::fs::read(catalogue.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["plugins"].as_array().unwrap().len(), 3, "{index}");

    // A second frontdesk is the marketplace.
    let market = Server::serving_catalogue(root, &catalogue);
    let catalogue_url = market.url("/catalogue");

    // The operator's server trusts acme and uses that catalogue.
    let data = root.join("data");
    ok(&data, &["trust", s(&keys.join("acme.pub"))]);
    let db = sqlite_url(root);
    let token = admin_token(&db);
    let mut serve = Command::new(binary());
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    serve.arg("--data-dir").arg(&data);
    let server = Server::start_command(serve, &db, &[("FRONTDESK_CATALOGUES", &catalogue_url)]);
    let http = Http::default();

    let (status, offered) = http
        .api(
            "GET",
            &server.url("/api/v1/plugins/catalogue"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{offered}");
    let echo1 = offered["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "echo" && p["version"] == "0.1.0")
        .expect("echo 0.1.0 offered")
        .clone();
    assert_eq!(echo1["signed_by"], "acme");
    assert_eq!(echo1["trusted"], true);
    assert!(
        echo1["permissions"][0]
            .as_str()
            .unwrap()
            .starts_with("send HTTP requests to"),
        "{echo1}"
    );

    // Install by name over HTTP; the approval is recorded.
    let (status, list) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/install"),
            &token,
            Some(json!({"name": "echo", "version": "0.1.0"})),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let echo = version_of(&list, "echo");
    assert_eq!(echo["active"], "0.1.0");
    assert_eq!(echo["signed_by"], "acme");
    assert_eq!(echo["unsigned"], false);
    assert!(
        echo["versions"][0]["approved_by"]
            .as_str()
            .unwrap()
            .starts_with("user:"),
        "{echo}"
    );

    // The audit log says whose signature it carried and what was approved.
    let (status, audit) = http
        .api(
            "GET",
            &server.url("/api/v1/audit?action=plugin.install"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit[0]["target"], "plugin:echo@0.1.0", "{audit}");
    assert_eq!(audit[0]["detail"]["signed_by"], "acme", "{audit}");
    assert_eq!(audit[0]["detail"]["permissions"], echo1["permissions"]);

    // An upgrade asking for mail waits; the old version keeps serving.
    let (status, list) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/upgrade"),
            &token,
            Some(json!({"name": "echo", "version": "0.2.0"})),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let echo = version_of(&list, "echo");
    assert_eq!(echo["active"], "0.1.0", "{echo}");
    assert_eq!(echo["awaiting_approval"], "0.2.0", "{echo}");
    let (status, list) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/echo/approve"),
            &token,
            Some(json!({"version": "0.2.0"})),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let echo = version_of(&list, "echo");
    assert_eq!(echo["active"], "0.2.0", "{echo}");
    assert_eq!(echo["awaiting_approval"], Value::Null);

    // One needing a newer plugin API says which host would run it.
    let (status, answer) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/upgrade"),
            &token,
            Some(json!({"name": "echo", "version": "0.3.0"})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("needs plugin API >=0.2, <0.3")
            && message.contains("a newer frontdesk release that implements plugin API"),
        "{message}"
    );

    // The refusals, each with its own message, from local catalogues.
    let offline = root.join("offline");
    ok(&offline, &["trust", s(&keys.join("acme.pub"))]);
    let with_catalogue =
        |cat: &Path| ["install", "echo@0.1.0", "--catalogue", s(cat)].map(str::to_string);
    let run = |args: [String; 4]| {
        refused(
            &offline,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };

    // Tampered: one byte of the component changed after signing, the
    // catalogue's sha256 recomputed to match.
    let tampered = variant(&v1, &root.join("tampered"), |m| m);
    std::fs::copy(v1.join("signature.json"), tampered.join("signature.json")).unwrap();
    let mut wasm = std::fs::read(tampered.join("plugin.wasm")).unwrap();
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    std::fs::write(tampered.join("plugin.wasm"), wasm).unwrap();
    let tampered_cat = root.join("tampered-catalogue");
    ok(
        &scratch,
        &["publish", s(&tampered), "--catalogue", s(&tampered_cat)],
    );
    let error = run(with_catalogue(&tampered_cat));
    assert!(
        error.contains("was changed after \"acme\" signed it"),
        "{error}"
    );

    // An unknown publisher.
    let mallory = variant(&v1, &root.join("mallory"), |m| m);
    ok(
        &scratch,
        &["sign", s(&mallory), "--key", s(&keys.join("mallory.key"))],
    );
    let mallory_cat = root.join("mallory-catalogue");
    ok(
        &scratch,
        &["publish", s(&mallory), "--catalogue", s(&mallory_cat)],
    );
    let error = run(with_catalogue(&mallory_cat));
    assert!(
        error.contains("signed by publisher \"mallory\"") && error.contains("does not trust"),
        "{error}"
    );

    // A sha256 the package does not have.
    let wrong_cat = root.join("wrong-sha-catalogue");
    ok(&scratch, &["publish", s(&v1), "--catalogue", s(&wrong_cat)]);
    let index_path = wrong_cat.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    index["plugins"][0]["sha256"] = json!("00".repeat(32));
    std::fs::write(&index_path, index.to_string()).unwrap();
    let error = run(with_catalogue(&wrong_cat));
    assert!(error.contains("but the catalogue lists 0000"), "{error}");

    // Unsigned from a path: refused, then allowed explicitly and marked.
    let unsigned = variant(&v1, &root.join("unsigned"), |m| m);
    let error = refused(&offline, &["install", s(&unsigned)]);
    assert!(
        error.contains("is unsigned") && error.contains("--allow-unsigned"),
        "{error}"
    );
    let shown = ok(&offline, &["install", s(&unsigned), "--allow-unsigned"]);
    assert!(shown.contains("UNSIGNED"), "{shown}");
    let list = ok(&offline, &["list"]);
    assert!(list.contains("UNSIGNED"), "{list}");

    // And the CLI path that works: by name from the local catalogue, signed.
    let signed_data = root.join("signed");
    ok(&signed_data, &["trust", s(&keys.join("acme.pub"))]);
    let shown = ok(
        &signed_data,
        &["install", "echo", "--catalogue", s(&catalogue)],
    );
    assert!(
        shown.contains("valid, by trusted publisher acme")
            && shown.contains("installed echo 0.2.0"),
        "{shown}"
    );
    let found = ok(
        &signed_data,
        &["search", "webhook", "--catalogue", s(&catalogue)],
    );
    assert!(found.contains("3 package(s) match"), "{found}");
    drop(market);
}
