//! Install, restart, upgrade and roll back: versions swap atomically under
//! traffic and a restart loads cached artifacts without compiling.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::guests::{self, echo_channel, echo_request, one_message};
use crate::{CallError, InstallError, PluginHost};

#[tokio::test]
async fn a_restart_loads_the_cached_artifact_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let host = guests::open(dir.path(), 5);
    let record = host.install(&guests::echo()).unwrap();
    assert_eq!(host.compilations(), 1);
    assert_eq!(record.sha256, guests::echo().sha256());
    drop(host);

    let host = guests::open(dir.path(), 5);
    assert_eq!(host.compilations(), 0, "the cached artifact was loaded");
    let listed = host.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].name.as_str(), listed[0].active.as_str()),
        ("echo", "0.1.0")
    );
    assert_eq!(listed[0].versions[0].sha256, record.sha256);
    let channel = echo_channel("c", "t", "http://127.0.0.1:9");
    let served = host
        .handle_inbound(&channel, &echo_request("t", &one_message("m", "hi")))
        .await
        .unwrap();
    assert!(served.value.is_ok());

    // Without the artifact (say, after a wasmtime upgrade) it compiles once
    // from the stored .wasm and caches again.
    drop(host);
    for entry in walk(dir.path()) {
        if entry.extension().is_some_and(|e| e == "cwasm") {
            std::fs::remove_file(entry).unwrap();
        }
    }
    let host = guests::open(dir.path(), 5);
    assert_eq!(host.compilations(), 1);
    drop(host);
    assert_eq!(guests::open(dir.path(), 5).compilations(), 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upgrade_and_rollback_swap_atomically_under_concurrent_calls() {
    let (_dir, host) = guests::host();
    host.install(&guests::echo()).unwrap();
    let v2 = guests::package("fixtures/echo-v2", "echo_v2");
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let host = host.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let channel = echo_channel("c", "t", "http://127.0.0.1:9");
            let mut served = Vec::new();
            let mut i = 0;
            // At least a few calls after the stop flag, so every phase is covered.
            while !stop.load(Ordering::Relaxed) || i % 8 != 0 {
                let id = format!("w{worker}-{i}");
                let result = host
                    .handle_inbound(&channel, &echo_request("t", &one_message(&id, "hi")))
                    .await
                    .expect("no call fails during an upgrade");
                let message = result.value.expect("echo parses").messages.remove(0);
                assert_eq!(
                    message.external_message_id, id,
                    "each call answered once, with its own message"
                );
                served.push((result.version, message.text.unwrap()));
                i += 1;
            }
            served
        }));
    }
    let admin = host.clone();
    let versions_seen = tokio::task::spawn_blocking(move || {
        let mut seen = vec![admin.list()[0].active.clone()];
        admin.upgrade(&v2).unwrap();
        seen.push(admin.list()[0].active.clone());
        assert_eq!(admin.rollback("echo").unwrap(), "0.1.0");
        seen.push(admin.list()[0].active.clone());
        admin.activate("echo", "0.2.0").unwrap();
        seen.push(admin.list()[0].active.clone());
        seen
    })
    .await
    .unwrap();
    assert_eq!(versions_seen, ["0.1.0", "0.2.0", "0.1.0", "0.2.0"]);
    // Let the workers see the final version before stopping them.
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    // Every call was served by exactly one version, and the text proves the
    // bytes that ran were that version's.
    for (version, text) in &all {
        match version.as_str() {
            "0.1.0" => assert_eq!(text, "hi"),
            "0.2.0" => assert_eq!(text, "v2: hi"),
            other => panic!("unexpected version {other}"),
        }
    }
    let last = host
        .handle_inbound(
            &echo_channel("c", "t", "http://x"),
            &echo_request("t", &one_message("end", "hi")),
        )
        .await
        .unwrap();
    assert_eq!(last.version, "0.2.0");
    assert!(all.iter().any(|(v, _)| v == "0.1.0"));
}

#[tokio::test]
async fn versions_are_immutable_and_removal_is_guarded() {
    let (_dir, host) = guests::host();
    host.install(&guests::echo()).unwrap();
    // Same bytes again: a no-op.
    host.install(&guests::echo()).unwrap();
    // Different bytes under the same version: refused.
    let v2 = guests::package("fixtures/echo-v2", "echo_v2");
    let imposter =
        crate::Package::from_parts(&guests::echo().manifest_text, v2.wasm.clone()).unwrap();
    let error = host.install(&imposter).unwrap_err();
    assert!(
        matches!(error, InstallError::VersionConflict { .. }),
        "{error:?}"
    );

    host.install(&v2).unwrap();
    assert_eq!(
        host.list()[0].active,
        "0.1.0",
        "installing a second version does not activate it"
    );
    let error = host.rollback("echo").unwrap_err();
    assert!(
        matches!(error, InstallError::NothingToRollBack { .. }),
        "{error:?}"
    );
    let error = host.remove("echo", Some("0.1.0")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin echo 0.1.0 is active: activate another version first, or remove the whole plugin"
    );
    host.remove("echo", Some("0.2.0")).unwrap();
    assert_eq!(host.list()[0].versions.len(), 1);
    host.remove("echo", None).unwrap();
    assert!(host.list().is_empty());
    let error = host
        .handle_inbound(
            &echo_channel("c", "t", "http://x"),
            &echo_request("t", &one_message("m", "hi")),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::NotInstalled { .. }), "{error:?}");
}

#[test]
fn a_package_directory_installs() {
    let (_dir, host): (_, PluginHost) = guests::host();
    let pkg = tempfile::tempdir().unwrap();
    let echo = guests::echo();
    std::fs::write(pkg.path().join("manifest.toml"), &echo.manifest_text).unwrap();
    std::fs::write(pkg.path().join("echo.wasm"), &echo.wasm).unwrap();
    let package = crate::Package::from_dir(pkg.path()).unwrap();
    assert_eq!(host.install(&package).unwrap().sha256, echo.sha256());
    let empty = tempfile::tempdir().unwrap();
    let error = crate::Package::from_dir(empty.path()).unwrap_err();
    assert!(
        error.to_string().ends_with("has no manifest.toml"),
        "{error}"
    );
}

/// Issue 17: an upgrade asking for more waits, the old version serving,
/// until an admin approves; approvals and signers are recorded and survive
/// a restart.
#[tokio::test]
async fn an_upgrade_asking_for_more_waits_for_approval() {
    let dir = tempfile::tempdir().unwrap();
    let host = guests::open(dir.path(), 5);
    let signed = crate::Consent {
        signed_by: Some("acme".into()),
        approved_by: Some("cli:ada".into()),
    };
    host.install_with(&guests::echo(), &signed).unwrap();
    let v1 = guests::echo();
    let more = v1
        .manifest_text
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        .replace("kv = true", "kv = true\nsmtp = true");
    let v2 = crate::Package::from_parts(&more, v1.wasm.clone()).unwrap();
    let outcome = host.upgrade_with(&v2, &signed).unwrap();
    assert_eq!(
        outcome,
        crate::UpgradeOutcome::AwaitingApproval {
            added: vec!["send email through the server's mail relay".into()]
        }
    );
    let listed = &host.list()[0];
    assert_eq!(listed.active, "0.1.0", "the old version keeps serving");
    assert_eq!(listed.awaiting_approval.as_deref(), Some("0.2.0"));
    assert_eq!(
        listed.versions[1].approval, None,
        "nobody approved 0.2.0 yet"
    );
    let channel = echo_channel("c", "t", "http://127.0.0.1:9");
    let served = host
        .handle_inbound(&channel, &echo_request("t", &one_message("m", "hi")))
        .await
        .unwrap();
    assert_eq!(served.version, "0.1.0");

    let wrong = host.approve("echo", "0.3.0", "user:1 (ann)").unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("no version 0.3.0 awaiting approval (waiting: 0.2.0)"),
        "{wrong}"
    );
    host.approve("echo", "0.2.0", "user:1 (ann)").unwrap();
    drop(host);
    let host = guests::open(dir.path(), 5);
    let listed = &host.list()[0];
    assert_eq!(listed.active, "0.2.0");
    assert_eq!(listed.awaiting_approval, None);
    let v2 = &listed.versions[1];
    assert_eq!(v2.approval.as_ref().unwrap().by, "user:1 (ann)");
    assert_eq!(v2.signed_by.as_deref(), Some("acme"));
    assert_eq!(listed.versions[0].approval.as_ref().unwrap().by, "cli:ada");
}
